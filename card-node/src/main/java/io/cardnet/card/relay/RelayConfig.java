package io.cardnet.card.relay;

/**
 * The TCP relay's settings (firmware service {@code relay}, {@code lab up --relay on}).
 *
 * @param port           the transparent listener's port; nftables' tproxy hands it every host connection
 * @param maxConnections relayed connections the card holds at once; one more is refused with a RST and counted
 * @param hostDevice     the card's bus interface (host0): only connections arriving there are relayed
 * @param mark           the packet mark that sends the relay's packets to the card's local delivery
 * @param table          the routing table holding that local route
 * @param move           how bytes go from one socket to the other: splice(2) in the kernel, or copied through user space
 */
public record RelayConfig(int port, int maxConnections, String hostDevice, int mark, int table, RelayMove move) {
    public static final int PORT = 3129;
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    public static final int MARK = 0xca7;
    public static final int TABLE = 3129;

    public RelayConfig {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("relay port must be 1..65535, was " + port);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("--relay-max-connections must be at least 1, was " + maxConnections);
        }
        if (hostDevice == null || !hostDevice.matches("[A-Za-z0-9_.-]{1,15}")) {
            throw new IllegalArgumentException("relay: bad host device name '" + hostDevice + "'");
        }
        java.util.Objects.requireNonNull(move, "move");
    }

    public static RelayConfig defaults(String hostDevice) {
        return new RelayConfig(PORT, DEFAULT_MAX_CONNECTIONS, hostDevice, MARK, TABLE, RelayMove.SPLICE);
    }

    public RelayConfig withMaxConnections(int n) {
        return new RelayConfig(port, n, hostDevice, mark, table, move);
    }

    public RelayConfig withMove(RelayMove m) {
        return new RelayConfig(port, maxConnections, hostDevice, mark, table, m);
    }
}
