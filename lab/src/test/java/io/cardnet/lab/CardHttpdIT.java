package io.cardnet.lab;

import io.cardnet.lab.bench.CpuClock;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Shell;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The card's web server fed from the host (issue 12, part 3), on one isolated lab started with an export:
 * the real curl on the wire peer asks the card (198.19.0.2:80), the card fetches from the host's export
 * (198.18.0.1:8081) across the bus and serves from its memory after that.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CardHttpdIT {
    private static final String CARD_WIRE = "http://198.19.0.2";
    private static final String EXPORT = "http://198.18.0.1:8081";
    private static final long MIB = 1L << 20;

    private TestLab t;
    private Path export;
    private Path outside;
    private Path downloads;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        export = Files.createTempDirectory("cardnet-export");
        outside = Files.createTempFile("cardnet-secret", ".txt");
        downloads = Files.createTempDirectory("cardnet-downloads");
        Files.writeString(outside, "the host's secret, outside the export\n");
        write(export.resolve("tiny.txt"), 100, 1);
        write(export.resolve("one-mib.bin"), MIB + 7, 2);
        write(export.resolve("sub/dir/nine-mib.bin"), 9 * MIB + 3, 3);
        write(export.resolve("big.bin"), 80 * MIB + 13, 4);
        Files.createFile(export.resolve("empty"));
        Files.createSymbolicLink(export.resolve("escape.txt"), outside);
        for (int i = 0; i < 1000; i++) {
            write(export.resolve(String.format("small/f%04d.bin", i)), 4096, 100 + i);
        }
        t = TestLab.up(c -> c.withExport(export));
    }

    @AfterAll
    void down() throws Exception {
        try {
            if (t != null) {
                t.close();
                assertFalse(Files.exists(t.lab.config().httpdCacheDir()), "the card's cache was left behind");
            }
        } finally {
            for (Path p : new Path[]{export, downloads}) {
                if (p != null) {
                    try (var all = Files.walk(p)) {
                        for (Path f : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                            Files.deleteIfExists(f);
                        }
                    }
                }
            }
            if (outside != null) {
                Files.deleteIfExists(outside);
            }
        }
    }

    @Test
    void filesOfSeveralSizesComeBackFromTheCardWithTheSameSha256() throws Exception {
        for (String name : List.of("tiny.txt", "one-mib.bin", "sub/dir/nine-mib.bin", "big.bin", "empty")) {
            for (String pass : List.of("cold", "warm")) {
                Path out = downloads.resolve(name.replace('/', '_') + "." + pass);
                Curl r = curl(t.wireNs(), "-o", out.toString(), CARD_WIRE + "/" + name);
                assertEquals(200, r.status(), name + " (" + pass + "): " + r.output());
                assertEquals(Files.size(export.resolve(name)), Files.size(out), name + " (" + pass + ") size");
                assertEquals(sha256(export.resolve(name)), sha256(out), name + " (" + pass + ") SHA-256");
                Files.delete(out);
            }
        }
        Map<String, Double> card = metrics(cardMetrics());
        assertTrue(sum(card, "cardnet_card_httpd_cache_total", "result=\"hit\"") >= 5, "warm passes were cache hits: " + card);
        assertTrue(sum(card, "cardnet_card_httpd_bytes_fetched_bytes_total", "") >= 90 * MIB, "bytes fetched from the host");
        assertTrue(sum(card, "cardnet_card_httpd_bytes_served_bytes_total", "") >= 2 * 90 * MIB, "bytes served");
    }

    @Test
    void headGivesTheLengthAndTagWithoutABody() throws Exception {
        Curl r = curl(t.wireNs(), "-I", CARD_WIRE + "/big.bin");
        assertEquals(200, r.status(), r.output());
        assertEquals(Long.toString(Files.size(export.resolve("big.bin"))), header(r.output(), "Content-Length"));
        assertNotNull(header(r.output(), "ETag"), r.output());
        assertEquals("bytes", header(r.output(), "Accept-Ranges"));
    }

    @Test
    void aRangeGivesExactlyThoseBytesAndOnePastTheEndIs416() throws Exception {
        Path out = downloads.resolve("range");
        long first = 5 * MIB + 1, last = 7 * MIB + 99;
        Curl r = curl(t.wireNs(), "-D", "-", "-r", first + "-" + last, "-o", out.toString(), CARD_WIRE + "/sub/dir/nine-mib.bin");
        assertEquals(206, r.status(), r.output());
        byte[] whole = Files.readAllBytes(export.resolve("sub/dir/nine-mib.bin"));
        assertArrayEquals(java.util.Arrays.copyOfRange(whole, (int) first, (int) last + 1), Files.readAllBytes(out));
        Curl headers = curl(t.wireNs(), "-I", "-r", first + "-" + last, CARD_WIRE + "/sub/dir/nine-mib.bin");
        assertEquals("bytes " + first + "-" + last + "/" + whole.length, header(headers.output(), "Content-Range"));
        Curl past = curl(t.wireNs(), "-D", "-", "-o", "/dev/null", "-r", whole.length + "-", CARD_WIRE + "/sub/dir/nine-mib.bin");
        assertEquals(416, past.status(), past.output());
        assertEquals("bytes */" + whole.length, header(past.output(), "Content-Range"));
    }

    @Test
    void ifNoneMatchWithTheTagGives304AndNoBody() throws Exception {
        String etag = header(curl(t.wireNs(), "-I", CARD_WIRE + "/one-mib.bin").output(), "ETag");
        Curl r = curl(t.wireNs(), "-H", "If-None-Match: " + etag, "-o", downloads.resolve("304").toString(),
                CARD_WIRE + "/one-mib.bin");
        assertEquals(304, r.status(), r.output());
        assertEquals(0, Files.exists(downloads.resolve("304")) ? Files.size(downloads.resolve("304")) : 0);
        Curl other = curl(t.wireNs(), "-H", "If-None-Match: \"not-it\"", "-o", "/dev/null", CARD_WIRE + "/one-mib.bin");
        assertEquals(200, other.status(), other.output());
    }

    @Test
    void aMissingFileIs404() throws Exception {
        assertEquals(404, curl(t.wireNs(), "-o", "/dev/null", CARD_WIRE + "/no-such-file").status());
        assertEquals(404, curl(t.wireNs(), "-o", "/dev/null", CARD_WIRE + "/sub").status(), "a directory is not a file");
    }

    @Test
    void traversalIsRefusedAndCountedOnBothSides() throws Exception {
        double cardBefore = sum(metrics(cardMetrics()), "cardnet_card_httpd_refused_total", "reason=\"traversal\"");
        double hostBefore = sum(metrics(hostMetrics()), "cardnet_host_export_refused_total", "reason=\"symlink\"");
        for (String path : List.of("/../../../../etc/passwd", "/sub/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                "/sub/..%2f..%2fetc/passwd")) {
            Curl r = curl(t.wireNs(), "--path-as-is", "-o", "/dev/null", CARD_WIRE + path);
            assertEquals(400, r.status(), path + ": " + r.output());
        }
        Curl link = curl(t.wireNs(), "-o", downloads.resolve("escape").toString(), CARD_WIRE + "/escape.txt");
        assertEquals(403, link.status(), "a symlink out of the export: " + link.output());
        assertFalse(Files.readString(downloads.resolve("escape")).contains("secret"));
        assertEquals(cardBefore + 4, sum(metrics(cardMetrics()), "cardnet_card_httpd_refused_total", "reason=\"traversal\""));
        assertEquals(hostBefore + 1, sum(metrics(hostMetrics()), "cardnet_host_export_refused_total", "reason=\"symlink\""));
    }

    @Test
    void theHostsExportServesTheCardOnlyAndOnlyOnTheBusAddress() throws Exception {
        Curl card = curl(t.cardNs(), "-o", "/dev/null", EXPORT + "/tiny.txt");
        assertEquals(200, card.status(), "the card fetches from the export: " + card.output());
        double before = sum(metrics(hostMetrics()), "cardnet_host_export_refused_total", "reason=\"client\"");
        Shell.Result wire = TestLab.exec(t.wireNs(), "curl", "-sS", "--max-time", "5", "-o", "/dev/null",
                "-w", "%{http_code}", EXPORT + "/tiny.txt");
        assertFalse(wire.ok(), "the wire peer reached the host's export: " + wire.output());
        assertFalse(wire.output().startsWith("200"), wire.output());
        // Firmware 1.0.0 forwards wire → host, so the connection reaches the export, which closes it and counts it.
        assertEquals(before + 1, sum(metrics(hostMetrics()), "cardnet_host_export_refused_total", "reason=\"client\""));
        Shell.Result listening = TestLab.exec(t.hostNs(), "ss", "-Hltn", "sport", "= :8081");
        // Netty's epoll sockets are IPv6 ones: toe0's address shows as [::ffff:198.18.0.1].
        assertTrue(listening.output().matches("(?s).*[\\s\\[:f]198\\.18\\.0\\.1]?:8081 .*"), listening.output());
        assertEquals(1, listening.output().strip().lines().count(), "one listener, on toe0's address: " + listening.output());
    }

    /** Not asserted: the host's CPU per GiB the card serves, cold (fetched across the bus) and warm (from card memory). */
    @Test
    void measureHostCpuPerGibColdAndWarmAndSmallFileRequestsPerSecond() throws Exception {
        Path file = export.resolve("measure.bin");
        write(file, 200 * MIB, 9);
        long size = Files.size(file);
        long host = t.pid(Component.HOST_BRIDGE);
        long card = t.pid(Component.CARD_NODE);
        double h0 = CpuClock.processSeconds(host), c0 = CpuClock.processSeconds(card);
        long n0 = System.nanoTime();
        assertEquals(200, curl(t.wireNs(), "-o", "/dev/null", CARD_WIRE + "/measure.bin").status());
        double h1 = CpuClock.processSeconds(host), c1 = CpuClock.processSeconds(card);
        long n1 = System.nanoTime();
        int warm = 5;
        for (int i = 0; i < warm; i++) {
            assertEquals(200, curl(t.wireNs(), "-o", "/dev/null", CARD_WIRE + "/measure.bin").status());
        }
        double h2 = CpuClock.processSeconds(host), c2 = CpuClock.processSeconds(card);
        long n2 = System.nanoTime();
        double gib = size / (double) (1L << 30);
        System.out.printf("httpd cold: host-bridge %.3f s CPU/GiB, card-node %.3f s CPU/GiB, %.2f Gb/s%n",
                (h1 - h0) / gib, (c1 - c0) / gib, size * 8 / ((n1 - n0) / 1e9) / 1e9);
        System.out.printf("httpd warm: host-bridge %.3f s CPU/GiB, card-node %.3f s CPU/GiB, %.2f Gb/s (%d × %d MiB)%n",
                (h2 - h1) / (gib * warm), (c2 - c1) / (gib * warm), warm * size * 8 / ((n2 - n1) / 1e9) / 1e9, warm,
                size >> 20);

        for (String pass : List.of("cold", "warm")) {
            Path dir = downloads.resolve("small-" + pass);
            Files.createDirectories(dir);
            long s0 = System.nanoTime();
            Shell.Result r = TestLab.exec(t.wireNs(), "curl", "-sS", "-w", "%{http_code}\n", "-o", dir + "/f#1.bin",
                    CARD_WIRE + "/small/f[0000-0999].bin");
            double seconds = (System.nanoTime() - s0) / 1e9;
            assertTrue(r.ok(), r.output());
            assertEquals(1000, r.output().lines().filter("200"::equals).count(), "1000 × 200: " + r.output());
            for (int i = 0; i < 1000; i += 97) {
                String name = String.format("f%04d.bin", i);
                assertEquals(sha256(export.resolve("small/" + name)), sha256(dir.resolve(name)), name);
            }
            System.out.printf("httpd %s: 1000 × 4 KiB over one keep-alive connection in %.2f s = %.0f requests/s%n",
                    pass, seconds, 1000 / seconds);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** What curl said: the status of the last response, and everything it printed. */
    private record Curl(int status, String output) {
    }

    /** The real curl in {@code ns}; prints headers (with -D -) or nothing, then "status=N". */
    private static Curl curl(String ns, String... args) throws IOException {
        List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "-w", "\nstatus=%{http_code}\n"));
        command.addAll(List.of(args));
        Shell.Result r = TestLab.exec(ns, command.toArray(String[]::new));
        Matcher m = Pattern.compile("status=(\\d+)").matcher(r.output());
        int status = -1;
        while (m.find()) {
            status = Integer.parseInt(m.group(1));
        }
        return new Curl(status, r.output());
    }

    private static String header(String response, String name) {
        String found = null;
        for (String line : response.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                found = line.substring(colon + 1).strip();
            }
        }
        return found;
    }

    private String cardMetrics() throws IOException {
        return TestLab.exec(t.hostNs(), "curl", "-sS", "http://198.18.0.2:9472/metrics").output();
    }

    private String hostMetrics() throws IOException {
        return TestLab.exec(t.hostNs(), "curl", "-sS", "http://127.0.0.1:9471/metrics").output();
    }

    /** Prometheus lines as "name{labels}" → value. */
    private static Map<String, Double> metrics(String text) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (!line.startsWith("#") && line.contains(" ")) {
                int sp = line.lastIndexOf(' ');
                try {
                    m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
                } catch (NumberFormatException e) {
                    // not a sample
                }
            }
        }
        return m;
    }

    /** The sum of a metric's samples whose labels contain {@code label}. */
    private static double sum(Map<String, Double> metrics, String name, String label) {
        return metrics.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{") || e.getKey().equals(name))
                .filter(e -> e.getKey().contains(label)).mapToDouble(Map.Entry::getValue).sum();
    }

    /** {@code size} pseudo-random bytes of {@code seed} into {@code file} (VmServicesIT exports one too). */
    static void write(Path file, long size, long seed) throws IOException {
        Files.createDirectories(file.getParent());
        SplittableRandom random = new SplittableRandom(seed);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
            }
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }
}
