package io.cardnet.card.firmware;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The services a firmware may name; card-node knows how to run each. */
public enum CardService {
    /** Counts and hashes what a TCP client sends, then reports bytes and SHA-256 (discard port). */
    SINK(9),
    /** Echoes TCP bytes back (echo port). */
    ECHO(7),
    /** The SSH console on the card's bus address: public keys only, a shell, exec and SFTP (io.cardnet.card.console). */
    CONSOLE(22),
    /**
     * Terminates host TCP connections toward the wire and continues them from the card's own stack (the TOE):
     * a transparent listener that nftables' tproxy feeds; see {@code io.cardnet.card.relay.TcpRelay}.
     */
    RELAY(io.cardnet.card.relay.RelayConfig.PORT);

    private final int port;

    CardService(int port) {
        this.port = port;
    }

    public int port() {
        return port;
    }

    public String id() {
        return name().toLowerCase();
    }

    /** The service of this name, or null. */
    public static CardService byId(String id) {
        return Arrays.stream(values()).filter(s -> s.id().equals(id)).findFirst().orElse(null);
    }

    public static String known() {
        return Arrays.stream(values()).map(CardService::id).collect(Collectors.joining(", "));
    }
}
