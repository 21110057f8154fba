package io.cardnet.card;

import io.cardnet.link.port.TunEndConfig;

import java.util.Objects;

/**
 * card-node's settings: the card's end of the link and what its firmware runs.
 *
 * @param end         host0: name, address, MTU, bus port and checksum mode
 * @param forwarding  turn on IPv4 forwarding in the card's namespace (the card routes host ⇄ wire)
 * @param sinkPort    TCP port of the sink (discard + byte count + SHA-256); 0 = off
 * @param echoPort    TCP port of the echo service; 0 = off
 * @param metricsPort /metrics port, on every card address (0 picks one)
 */
public record CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort) {
    public static final int SINK_PORT = 9;
    public static final int ECHO_PORT = 7;

    public CardNodeConfig {
        Objects.requireNonNull(end, "end");
    }
}
