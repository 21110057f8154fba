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
 * @param metricsPort /metrics port (0 picks one)
 * @param firmware    the firmware to boot, or null; when set, its services, sysctls and ruleset replace
 *                    {@code forwarding}, {@code sinkPort} and {@code echoPort}
 * @param console     where the SSH console keeps its host key and data, and the keys it trusts besides the
 *                    firmware's; it runs only when the firmware names the {@code console} service
 * @param httpd       the web server fed from the host's export, or null (the lab turns it on with --export)
 * @param metricsHost the address /metrics listens on; null: the card's bus address (host0's), which the host
 *                    reaches and the wire does not. Never all interfaces: the wire is someone else's network.
 * @param ipsecKeys   the ESP tunnel's keys for a firmware with {@code ipsec:} (a file the lab writes at each boot),
 *                    or null
 * @param relay       the TCP relay's settings, or null for no relay (the firmware's {@code relay} service turns it on)
 */
public record CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort,
                             Firmware firmware, ConsoleOptions console, io.cardnet.card.httpd.HttpdConfig httpd,
                             String metricsHost, java.nio.file.Path ipsecKeys,
                             io.cardnet.card.relay.RelayConfig relay) {
    public static final int SINK_PORT = 9;
    public static final int ECHO_PORT = 7;

    public CardNodeConfig {
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(console, "console");
    }

    public CardNodeConfig(TunEndConfig end, boolean forwarding, int sinkPort, int echoPort, int metricsPort,
                          Firmware firmware) {
        this(end, forwarding, sinkPort, echoPort, metricsPort, firmware, ConsoleOptions.DEFAULT, null, null, null, null);
    }

    /**
     * What card-node's options say about the console; the rest (address, authorized_keys of the firmware) comes
     * from host0 and the firmware.
     *
     * @param stateDir  host key and data directory ({@link io.cardnet.card.console.ConsoleSettings})
     * @param extraKeys authorized_keys files trusted besides the firmware's (the lab's key)
     */
    public record ConsoleOptions(java.nio.file.Path stateDir, java.util.List<java.nio.file.Path> extraKeys) {
        /** Without a lab: state under /var/lib (a card container or VM keeps it on its own disk). */
        public static final ConsoleOptions DEFAULT = new ConsoleOptions(java.nio.file.Path.of("/var/lib/cardnet/console"),
                java.util.List.of());

        public ConsoleOptions {
            Objects.requireNonNull(stateDir, "stateDir");
            extraKeys = java.util.List.copyOf(extraKeys);
        }
    }

    public CardNodeConfig withConsole(ConsoleOptions c) {
        return new CardNodeConfig(end, forwarding, sinkPort, echoPort, metricsPort, firmware, c, httpd, metricsHost, ipsecKeys, relay);
    }

    public CardNodeConfig withHttpd(io.cardnet.card.httpd.HttpdConfig h) {
        return new CardNodeConfig(end, forwarding, sinkPort, echoPort, metricsPort, firmware, console, h, metricsHost, ipsecKeys, relay);
    }

    public CardNodeConfig withMetricsHost(String host) {
        return new CardNodeConfig(end, forwarding, sinkPort, echoPort, metricsPort, firmware, console, httpd, host, ipsecKeys, relay);
    }

    /** This configuration with the relay on ({@code r}) or off (null), whatever the firmware says. */
    public CardNodeConfig withRelay(io.cardnet.card.relay.RelayConfig r) {
        return new CardNodeConfig(end, forwarding, sinkPort, echoPort, metricsPort, firmware, console, httpd, metricsHost,
                ipsecKeys, r);
    }

    /** Where /metrics listens: {@link #metricsHost}, or the card's bus address. */
    public String metricsBindHost() {
        return metricsHost != null ? metricsHost : end.address().ip();
    }

    /** The console's settings when the firmware runs it, else null. */
    public io.cardnet.card.console.ConsoleSettings consoleSettings() {
        if (firmware == null || !firmware.services().contains(io.cardnet.card.firmware.CardService.CONSOLE)) {
            return null;
        }
        java.util.List<java.nio.file.Path> keys = new java.util.ArrayList<>();
        if (firmware.authorizedKeys() != null) {
            keys.add(firmware.authorizedKeys());
        }
        keys.addAll(console.extraKeys());
        return new io.cardnet.card.console.ConsoleSettings(end.address().address(),
                io.cardnet.card.firmware.CardService.CONSOLE.port(), console.stateDir(), keys,
                io.cardnet.card.console.ConsoleSettings.DEFAULT_SHELL);
    }

    /** This configuration running {@code f}: its services, at their ports, and its sysctls. */
    public CardNodeConfig withFirmware(Firmware f) {
        return new CardNodeConfig(end, "1".equals(f.sysctls().get("net.ipv4.ip_forward")),
                f.services().contains(io.cardnet.card.firmware.CardService.SINK) ? SINK_PORT : 0,
                f.services().contains(io.cardnet.card.firmware.CardService.ECHO) ? ECHO_PORT : 0, metricsPort, f,
                console, httpd, metricsHost, ipsecKeys,
                f.services().contains(io.cardnet.card.firmware.CardService.RELAY)
                        ? relay != null ? relay : io.cardnet.card.relay.RelayConfig.defaults(end.device()) : null);
    }
}
