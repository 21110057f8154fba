package io.cardnet.hostbridge.export;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The host's export: a directory the card may read across the bus.
 *
 * @param directory what is served, read-only
 * @param bind      the only address it listens on: toe0's (the host end of the bus), never all interfaces
 * @param port      its TCP port
 * @param client    the only peer it answers: the card's bus address; anyone else the card routes here is refused
 */
public record ExportConfig(Path directory, InetAddress bind, int port, InetAddress client) {
    public static final int DEFAULT_PORT = 8081;

    public ExportConfig {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(client, "client");
        if (bind.isAnyLocalAddress()) {
            throw new IllegalArgumentException("the export listens on the host's bus address only, not " + bind.getHostAddress());
        }
    }
}
