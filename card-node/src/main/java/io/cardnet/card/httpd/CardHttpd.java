package io.cardnet.card.httpd;

import io.cardnet.link.http.HttpCounters;
import io.cardnet.link.http.HttpFileServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The card's web server: HTTP/1.1 on the card's wire address, serving the host's export. Files come across the
 * bus once and are served from the card's memory after that (sendfile from tmpfs), so the host's CPU is spent on
 * a file once rather than on every request for it.
 */
public final class CardHttpd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CardHttpd.class);

    private final HttpFileServer server;
    private final HttpdCache cache;

    private CardHttpd(HttpFileServer server, HttpdCache cache) {
        this.server = server;
        this.cache = cache;
    }

    public static CardHttpd start(HttpdConfig config, MeterRegistry registry) throws IOException {
        HttpdCache cache = new HttpdCache(config, registry);
        HttpCounters counters = new HttpCounters(registry, "cardnet.card.httpd");
        try {
            HttpFileServer server = HttpFileServer.start("httpd", new InetSocketAddress(config.bind(), config.port()), 2,
                    () -> new HttpdHandler(cache, counters));
            log.info("httpd on http://{}:{}/ serving {} (cache {} MiB in {}, files up to {} MiB kept, fresh for {} ms)",
                    config.bind().getHostAddress(), server.address().getPort(), config.origin(), config.cacheMax() >> 20,
                    config.cacheDir(), config.fileMax() >> 20, config.fresh().toMillis());
            return new CardHttpd(server, cache);
        } catch (IOException | RuntimeException e) {
            cache.close();
            throw e;
        }
    }

    public int port() {
        return server.address().getPort();
    }

    @Override
    public void close() {
        server.close();
        cache.close();
    }
}
