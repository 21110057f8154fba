package io.cardnet.lab.httpd;

import io.cardnet.card.httpd.CardHttpd;
import io.cardnet.card.httpd.HttpdConfig;
import io.cardnet.hostbridge.export.ExportConfig;
import io.cardnet.hostbridge.export.ExportServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The export and the card's httpd back to back on loopback (no lab, no root): the cache's behaviour that the lab test
 * cannot steer — revalidation, a changed file, eviction, oversized files, concurrent misses.
 */
class ExportAndHttpdTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<AutoCloseable> open = new ArrayList<>();
    private final MeterRegistry hostMeters = new SimpleMeterRegistry();
    private final MeterRegistry cardMeters = new SimpleMeterRegistry();

    @TempDir
    Path export;
    @TempDir
    Path cache;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private URI card(long cacheMax, long fileMax, Duration fresh) throws Exception {
        ExportServer host = ExportServer.start(new ExportConfig(export, LOOPBACK, 0, LOOPBACK), hostMeters);
        open.add(host);
        CardHttpd httpd = CardHttpd.start(new HttpdConfig(LOOPBACK, 0, URI.create("http://127.0.0.1:" + host.port()),
                cache.resolve("c"), cacheMax, fileMax, fresh), cardMeters);
        open.add(httpd);
        return URI.create("http://127.0.0.1:" + httpd.port());
    }

    private HttpResponse<byte[]> get(URI base, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static byte[] write(Path file, int size, long seed) throws Exception {
        byte[] b = new byte[size];
        new SplittableRandom(seed).nextBytes(b);
        Files.createDirectories(file.getParent());
        Files.write(file, b);
        return b;
    }

    private double card(String name, String... tags) {
        var c = cardMeters.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aFileIsFetchedOnceThenServedFromTheCacheAndRangesComeFromItToo() throws Exception {
        byte[] data = write(export.resolve("a/b.bin"), 3 << 20, 1);
        URI base = card(64 << 20, 32 << 20, Duration.ofMinutes(5));
        for (int i = 0; i < 3; i++) {
            HttpResponse<byte[]> r = get(base, "/a/b.bin");
            assertEquals(200, r.statusCode());
            assertArrayEquals(data, r.body());
        }
        HttpResponse<byte[]> part = get(base, "/a/b.bin", "Range", "bytes=100-199");
        assertEquals(206, part.statusCode());
        assertArrayEquals(Arrays.copyOfRange(data, 100, 200), part.body());
        assertEquals(1, card("cardnet.card.httpd.cache", "result", "miss"));
        assertEquals(3, card("cardnet.card.httpd.cache", "result", "hit"));
        assertEquals(data.length, card("cardnet.card.httpd.bytes.fetched"));
        // counted when the write completes, which the client may see a moment before the server does
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (card("cardnet.card.httpd.bytes.served") < 3.0 * data.length + 100 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(3.0 * data.length + 100, card("cardnet.card.httpd.bytes.served"));
    }

    @Test
    void anExpiredCopyIsRevalidatedAndAChangedFileIsFetchedAgain() throws Exception {
        write(export.resolve("f"), 1000, 1);
        URI base = card(1 << 20, 1 << 20, Duration.ZERO);
        String tag = get(base, "/f").headers().firstValue("ETag").orElseThrow();
        assertEquals(tag, get(base, "/f").headers().firstValue("ETag").orElseThrow());
        assertEquals(1, card("cardnet.card.httpd.cache", "result", "revalidated"));
        byte[] changed = write(export.resolve("f"), 2000, 2);
        HttpResponse<byte[]> r = get(base, "/f", "If-None-Match", tag);
        assertEquals(200, r.statusCode(), "the old tag no longer matches");
        assertArrayEquals(changed, r.body());
        Files.delete(export.resolve("f"));
        assertEquals(404, get(base, "/f").statusCode(), "a file gone from the host is gone from the card");
    }

    @Test
    void theCacheStaysUnderItsSizeAndKeepsNoOversizedFile() throws Exception {
        URI base = card(3 << 20, 1 << 20, Duration.ofMinutes(5));
        byte[] big = write(export.resolve("big"), 2 << 20, 9);
        for (int i = 0; i < 5; i++) {
            byte[] small = write(export.resolve("s" + i), 1 << 20, i);
            assertArrayEquals(small, get(base, "/s" + i).body());
        }
        assertArrayEquals(big, get(base, "/big").body());
        assertArrayEquals(big, get(base, "/big").body());
        assertEquals(5 + 2, card("cardnet.card.httpd.cache", "result", "miss"), "the oversized file is fetched every time");
        try (var files = Files.list(cache.resolve("c"))) {
            long bytes = files.mapToLong(p -> p.toFile().length()).sum();
            assertEquals(3L << 20, bytes, "the three most recent 1 MiB files, nothing of the 2 MiB one");
        }
        assertArrayEquals(Files.readAllBytes(export.resolve("s4")), get(base, "/s4").body());
        assertEquals(1, card("cardnet.card.httpd.cache", "result", "hit"), "s4 is still cached");
    }

    @Test
    void aRestartedExportIsReachedAgainAndAStoppedOneIsA502() throws Exception {
        byte[] data = write(export.resolve("f"), 5000, 4);
        ExportServer host = ExportServer.start(new ExportConfig(export, LOOPBACK, 0, LOOPBACK), hostMeters);
        int port = host.port();
        CardHttpd httpd = CardHttpd.start(new HttpdConfig(LOOPBACK, 0, URI.create("http://127.0.0.1:" + port),
                cache.resolve("c"), 1 << 20, 1 << 20, Duration.ZERO), cardMeters);
        open.add(httpd);
        URI base = URI.create("http://127.0.0.1:" + httpd.port());
        assertArrayEquals(data, get(base, "/f").body());
        host.close();
        assertEquals(502, get(base, "/f").statusCode(), "the host's export is gone");
        ExportServer restarted = ExportServer.start(new ExportConfig(export, LOOPBACK, port, LOOPBACK), hostMeters);
        HttpResponse<byte[]> again = get(base, "/f");
        assertEquals(200, again.statusCode());
        assertArrayEquals(data, again.body());
        // A restart between two requests: the card's kept connection is dead, and it asks again on a new one.
        restarted.close();
        open.add(ExportServer.start(new ExportConfig(export, LOOPBACK, port, LOOPBACK), hostMeters));
        assertEquals(200, get(base, "/f").statusCode());
        assertEquals(1, card("cardnet.card.httpd.requests", "status", "502"));
    }

    @Test
    void concurrentMissesForOneFileShareOneFetch() throws Exception {
        byte[] data = write(export.resolve("shared.bin"), 8 << 20, 3);
        URI base = card(64 << 20, 32 << 20, Duration.ofMinutes(5));
        List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            all.add(client.sendAsync(HttpRequest.newBuilder(base.resolve("/shared.bin")).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        for (var f : all) {
            assertArrayEquals(data, f.get().body());
        }
        assertEquals(data.length, card("cardnet.card.httpd.bytes.fetched"), "fetched from the host once");
    }

    @Test
    void refusalsAreAnsweredAndCountedOnBothSides() throws Exception {
        write(export.resolve("ok"), 10, 1);
        Path outside = Files.createTempFile("secret", "");
        try {
            Files.createSymbolicLink(export.resolve("link"), outside);
            URI base = card(1 << 20, 1 << 20, Duration.ofMinutes(5));
            assertEquals(403, get(base, "/link").statusCode());
            assertEquals(1, hostMeters.find("cardnet.host.export.refused").tags("reason", "symlink").counter().count());
            HttpResponse<byte[]> post = client.send(HttpRequest.newBuilder(base.resolve("/ok"))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(405, post.statusCode());
            assertEquals(1, card("cardnet.card.httpd.refused", "reason", "method"));
            assertEquals(404, get(base, "/").statusCode(), "no listings");
            assertFalse(new String(get(base, "/link").body()).contains("secret"));
        } finally {
            Files.deleteIfExists(outside);
        }
    }
}
