package io.cardnet.card.httpd;

import io.cardnet.link.http.FileMeta;
import io.cardnet.link.http.RequestPath;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The card's copy of the host's files, in tmpfs (the card's memory), keyed by request path and validated with the
 * host's ETag. A cached file younger than {@code fresh} is served without a word to the host; an older one is
 * revalidated with If-None-Match (a 304 crosses the bus instead of the file). Concurrent misses for one path share
 * one fetch. Files over {@code fileMax} are fetched for the requests waiting on them and then dropped; the cache
 * evicts least recently used files to stay under {@code cacheMax}.
 */
final class HttpdCache implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpdCache.class);

    /** A file on the card: where, what the host said about it, and when the host last confirmed it. */
    record Entry(Path file, FileMeta meta, long checkedNanos, boolean kept) {
    }

    /** The outcome of a lookup. */
    sealed interface Lookup permits Found, Failed {
    }

    record Found(Entry entry) implements Lookup {
    }

    record Failed(int status, String message) implements Lookup {
    }

    private final HttpdConfig config;
    private final HostOrigin origin;
    private final Map<String, Entry> lru = new LinkedHashMap<>(64, 0.75f, true);
    private final ConcurrentHashMap<String, CompletableFuture<Lookup>> inflight = new ConcurrentHashMap<>();
    private final ExecutorService fetchers = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicLong names = new AtomicLong();
    private final Counter hits;
    private final Counter misses;
    private final Counter revalidated;
    private final Counter fetched;
    private long used;

    HttpdCache(HttpdConfig config, MeterRegistry registry) throws IOException {
        this.config = config;
        this.origin = new HostOrigin(config.origin());
        // Owner-only: the cache holds copies of the host's files, and /dev/shm is shared by every user.
        Files.createDirectories(config.cacheDir(), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        hits = cache(registry, "hit", "served from card memory without asking the host");
        misses = cache(registry, "miss", "fetched from the host across the bus");
        revalidated = cache(registry, "revalidated", "the host confirmed an expired copy unchanged (304)");
        fetched = Counter.builder("cardnet.card.httpd.bytes.fetched").baseUnit("bytes")
                .description("file bytes fetched from the host's export across the bus").register(registry);
        Gauge.builder("cardnet.card.httpd.cache.bytes", this, c -> c.usedBytes()).baseUnit("bytes")
                .description("bytes of files the card's cache holds").register(registry);
    }

    private static Counter cache(MeterRegistry registry, String result, String why) {
        return Counter.builder("cardnet.card.httpd.cache").tag("result", result).description(why).register(registry);
    }

    synchronized long usedBytes() {
        return used;
    }

    /** The file for {@code path}, from memory or from the host. */
    CompletableFuture<Lookup> lookup(RequestPath path) {
        String key = path.relative();
        Entry cached;
        synchronized (this) {
            cached = lru.get(key);
        }
        if (cached != null && System.nanoTime() - cached.checkedNanos() < config.fresh().toNanos()) {
            hits.increment();
            return CompletableFuture.completedFuture(new Found(cached));
        }
        CompletableFuture<Lookup> mine = new CompletableFuture<>();
        CompletableFuture<Lookup> running = inflight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        fetchers.execute(() -> {
            Lookup result;
            try {
                result = fetch(path, cached);
            } catch (IOException | RuntimeException e) {
                log.warn("fetching {} from the host failed: {}", path, e.toString());
                result = new Failed(502, "the card could not fetch " + path + " from the host: " + e.getMessage());
            }
            inflight.remove(key, mine);
            // Dependents registered so far run here and open the file before a dropped one is deleted below.
            mine.complete(result);
            if (result instanceof Found f && !f.entry().kept()) {
                delete(f.entry().file());
            }
        });
        return mine;
    }

    private Lookup fetch(RequestPath path, Entry cached) throws IOException {
        String key = path.relative();
        Path into = config.cacheDir().resolve("f" + names.incrementAndGet());
        HostOrigin.Answer answer;
        try {
            answer = origin.fetch(path, cached == null ? null : cached.meta().etag(), into);
        } catch (IOException | RuntimeException e) {
            delete(into);
            throw e;
        }
        return switch (answer) {
            case HostOrigin.NotModified n -> {
                Entry again = new Entry(cached.file(), cached.meta(), System.nanoTime(), true);
                synchronized (this) {
                    if (lru.get(key) == cached) {
                        lru.put(key, again);
                        revalidated.increment();
                        yield new Found(again);
                    }
                }
                yield fetch(path, null); // evicted meanwhile: fetch it whole
            }
            case HostOrigin.Body b -> {
                misses.increment();
                fetched.increment(b.meta().size());
                yield new Found(admit(key, new Entry(b.file(), b.meta(), System.nanoTime(), b.meta().size() <= config.fileMax())));
            }
            case HostOrigin.Refused r -> {
                forget(key);
                yield new Failed(r.status(), r.message());
            }
        };
    }

    private Entry admit(String key, Entry e) {
        synchronized (this) {
            forget(key);
            if (!e.kept()) {
                return e;
            }
            lru.put(key, e);
            used += e.meta().size();
            for (Iterator<Map.Entry<String, Entry>> it = lru.entrySet().iterator(); used > config.cacheMax() && it.hasNext(); ) {
                Entry old = it.next().getValue();
                if (old == e) {
                    continue;
                }
                it.remove();
                used -= old.meta().size();
                delete(old.file());
            }
        }
        return e;
    }

    /** Drops the cached copy of {@code key}; a response still sending it keeps its open file. */
    private synchronized void forget(String key) {
        Entry old = lru.remove(key);
        if (old != null) {
            used -= old.meta().size();
            delete(old.file());
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", file, e.toString());
        }
    }

    @Override
    public void close() {
        fetchers.shutdownNow();
        origin.close();
        try (var files = Files.list(config.cacheDir())) {
            files.forEach(HttpdCache::delete);
            Files.deleteIfExists(config.cacheDir());
        } catch (IOException e) {
            log.warn("cannot remove the cache {}: {}", config.cacheDir(), e.toString());
        }
    }
}
