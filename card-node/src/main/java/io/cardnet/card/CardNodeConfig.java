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
 * @param relay       the TCP relay's settings, or null for no relay (the firmware's {@code relay} service turns it on)
 */
public record CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort,
                             Firmware firmware, io.cardnet.card.relay.RelayConfig relay) {
    public static final int SINK_PORT = 9;
    public static final int ECHO_PORT = 7;

    public CardNodeConfig {
        Objects.requireNonNull(end, "end");
    }

    public CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort,
                          Firmware firmware) {
        this(end, forwarding, sinkPort, echoPort, metricsPort, firmware, null);
    }

    /** This configuration with the relay on ({@code r}) or off (null), whatever the firmware says. */
    public CardNodeConfig withRelay(io.cardnet.card.relay.RelayConfig r) {
        return new CardNodeConfig(end, forwarding, sinkPort, echoPort, metricsPort, firmware, r);
    }

    /** This configuration running {@code f}: its services, at their ports, and its sysctls. */
    public CardNodeConfig withFirmware(Firmware f) {
        return new CardNodeConfig(end, "1".equals(f.sysctls().get("net.ipv4.ip_forward")),
                f.services().contains(io.cardnet.card.firmware.CardService.SINK) ? SINK_PORT : 0,
                f.services().contains(io.cardnet.card.firmware.CardService.ECHO) ? ECHO_PORT : 0, metricsPort, f,
                f.services().contains(io.cardnet.card.firmware.CardService.RELAY)
                        ? relay != null ? relay : io.cardnet.card.relay.RelayConfig.defaults(end.device()) : null);
    }
}
