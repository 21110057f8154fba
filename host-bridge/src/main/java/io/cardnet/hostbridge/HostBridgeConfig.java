package io.cardnet.hostbridge;

import io.cardnet.link.port.TunEndConfig;

import java.util.List;
import java.util.Objects;

/**
 * host-bridge's settings.
 *
 * @param end         toe0: its name, address, MTU, bus port and checksum mode
 * @param routes      subnets reached through the card (e.g. the wire, 198.19.0.0/24 via 198.18.0.2)
 * @param metricsHost where /metrics listens
 * @param metricsPort its port (0 picks one)
 * @param export      the directory served to the card on toe0's address, or null for none
 */
public record HostBridgeConfig(TunEndConfig end, List<Route> routes, String metricsHost, int metricsPort,
                               io.cardnet.hostbridge.export.ExportConfig export) {
    public HostBridgeConfig {
        Objects.requireNonNull(end, "end");
        routes = List.copyOf(routes);
    }

    public HostBridgeConfig(TunEndConfig end, List<Route> routes, String metricsHost, int metricsPort) {
        this(end, routes, metricsHost, metricsPort, null);
    }

    /** A route added on toe0 when it comes up; it goes away with the device. */
    public record Route(String subnet, String via) {
        @Override
        public String toString() {
            return subnet + " via " + via;
        }
    }
}
