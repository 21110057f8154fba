package io.cardnet.link.protocol;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;

/**
 * Where a bus port listens: a Unix domain socket (the default, under the lab's run directory) or TCP
 * (for a card on another machine). Written {@code unix:/run/cardnet/lab/host.sock} or {@code tcp:HOST:PORT}.
 */
public sealed interface BusAddress {

    record Unix(Path path) implements BusAddress {
        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    record Tcp(String host, int port) implements BusAddress {
        @Override
        public String toString() {
            return "tcp:" + host + ":" + port;
        }

        public SocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }
    }

    /** Parses {@code unix:PATH}, {@code tcp:HOST:PORT}, or a bare path (taken as unix). */
    static BusAddress parse(String text) {
        if (text.startsWith("tcp:")) {
            String rest = text.substring(4);
            int colon = rest.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("bus address '" + text + "' needs a port: tcp:HOST:PORT");
            }
            int port;
            try {
                port = Integer.parseInt(rest.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bus address '" + text + "': port is not a number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("bus address '" + text + "': port must be 1..65535");
            }
            return new Tcp(rest.substring(0, colon), port);
        }
        String path = text.startsWith("unix:") ? text.substring(5) : text;
        if (path.isBlank()) {
            throw new IllegalArgumentException("bus address '" + text + "' has no path: unix:/path/to/socket");
        }
        return new Unix(Path.of(path));
    }
}
