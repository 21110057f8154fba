package io.cardnet.card.httpd;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The card's web server.
 *
 * @param bind     the card address it listens on (the lab gives the wire address, eth0)
 * @param port     its TCP port (80)
 * @param origin   the host's export across the bus, e.g. http://198.18.0.1:8081
 * @param cacheDir where cached files live: a tmpfs directory, i.e. the card's memory
 * @param cacheMax the most bytes the cache holds; the least recently used files go first
 * @param fileMax  files larger than this are fetched for one request and not kept
 * @param fresh    how long a cached file is served without asking the host whether it changed
 */
public record HttpdConfig(InetAddress bind, int port, URI origin, Path cacheDir, long cacheMax, long fileMax,
                          Duration fresh) {
    public static final int DEFAULT_PORT = 80;

    public HttpdConfig {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(fresh, "fresh");
        if (!"http".equals(origin.getScheme()) || origin.getHost() == null) {
            throw new IllegalArgumentException("--httpd-origin must be http://HOST:PORT (the host's export), not " + origin);
        }
        if (cacheMax < 0 || fileMax < 0 || fileMax > cacheMax) {
            throw new IllegalArgumentException("httpd cache sizes: need 0 <= file max (" + fileMax + ") <= cache max ("
                    + cacheMax + ")");
        }
    }
}
