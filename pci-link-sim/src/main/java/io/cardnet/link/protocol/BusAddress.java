package io.cardnet.link.protocol;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;

/**
 * Where a bus port listens: a Unix domain socket (the default, under the lab's run directory) or TCP
 * (for a card on another machine). Written {@code unix:/run/cardnet/lab/host.sock} or {@code tcp:HOST:PORT}.
 * Inside a card VM the end reaches the simulator through a virtio-serial port that QEMU connects to the
 * simulator's card socket: {@code virtio:NAME} (an end-side address only; the simulator never listens on one).
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

    /** A virtio-serial port of this machine, by the name QEMU gave it ({@code /dev/virtio-ports/NAME}). */
    record VirtioPort(String name) implements BusAddress {
        public VirtioPort {
            if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("virtio port name '" + name + "' must be 1..64 of letters, digits, '_', '.', '-'");
            }
        }

        @Override
        public String toString() {
            return "virtio:" + name;
        }
    }

    /** Parses {@code unix:PATH}, {@code tcp:HOST:PORT}, {@code virtio:NAME}, or a bare path (taken as unix). */
    static BusAddress parse(String text) {
        if (text.startsWith("virtio:")) {
            return new VirtioPort(text.substring(7));
        }
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
