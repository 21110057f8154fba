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
 * @param attach      toe0 exists already: a persistent TUN owned by this user, its MTU, address, routes and link state
 *                    set by whoever made it (the lab); host-bridge only attaches its queues and needs no capability.
 *                    False: host-bridge creates toe0 and adds {@code routes} itself (CAP_NET_ADMIN)
 */
public record HostBridgeConfig(TunEndConfig end, List<Route> routes, String metricsHost, int metricsPort,
                               io.cardnet.hostbridge.export.ExportConfig export, boolean attach) {
    public HostBridgeConfig {
        Objects.requireNonNull(end, "end");
        routes = List.copyOf(routes);
        if (attach && !routes.isEmpty()) {
            throw new IllegalArgumentException("routes " + routes + " need CAP_NET_ADMIN, which an attaching host-bridge"
                    + " does not hold: whoever made " + end.device() + " adds them (the lab does)");
        }
    }

    public HostBridgeConfig(TunEndConfig end, List<Route> routes, String metricsHost, int metricsPort,
                            io.cardnet.hostbridge.export.ExportConfig export) {
        this(end, routes, metricsHost, metricsPort, export, false);
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
