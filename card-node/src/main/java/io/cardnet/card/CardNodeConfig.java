package io.cardnet.card;

import io.cardnet.card.firmware.Firmware;
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
 * @param firmware    the firmware to boot, or null; when set, its services, sysctls and ruleset replace
 *                    {@code forwarding}, {@code sinkPort} and {@code echoPort}
 * @param ipsecKeys   the ESP tunnel's keys for a firmware with {@code ipsec:} (a file the lab writes at each boot),
 *                    or null
 */
public record CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort,
                             Firmware firmware, java.nio.file.Path ipsecKeys) {
    public static final int SINK_PORT = 9;
    public static final int ECHO_PORT = 7;

    public CardNodeConfig {
        Objects.requireNonNull(end, "end");
    }

    /** This configuration running {@code f}: its services, at their ports, and its sysctls. */
    public CardNodeConfig withFirmware(Firmware f) {
        return new CardNodeConfig(end, "1".equals(f.sysctls().get("net.ipv4.ip_forward")),
                f.services().contains(io.cardnet.card.firmware.CardService.SINK) ? SINK_PORT : 0,
                f.services().contains(io.cardnet.card.firmware.CardService.ECHO) ? ECHO_PORT : 0, metricsPort, f, ipsecKeys);
    }
}
