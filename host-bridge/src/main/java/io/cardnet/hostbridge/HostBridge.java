package io.cardnet.hostbridge;

import io.cardnet.link.metrics.MetricsServer;
import io.cardnet.link.port.TunEnd;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The root-complex side: the host's view of the card is the network interface toe0, and every packet the
 * host's kernel sends into toe0 crosses the bus to the card. toe0's carrier follows the link state, and
 * packets from the card are written so the host stack skips checksum verification (see ChecksumPolicy).
 *
 * <p>It either creates toe0 and its routes (CAP_NET_ADMIN), or, as the lab runs it, attaches to the persistent toe0
 * the lab made for it and holds no capability at all: the queues' attach and detach at each retrain, the carrier
 * and the offloads are ioctls on its own TUN file descriptors, which the kernel allows the device's owner.
 */
public final class HostBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostBridge.class);

    private final TunEnd end;
    private final MetricsServer metrics;
    private io.cardnet.hostbridge.export.ExportServer export;

    private HostBridge(TunEnd end, MetricsServer metrics) {
        this.end = end;
        this.metrics = metrics;
    }

    public static HostBridge start(HostBridgeConfig config) throws IOException, InterruptedException {
        PrometheusMeterRegistry registry = MetricsServer.newRegistry("host-bridge");
        MetricsServer metrics = MetricsServer.start(registry, config.metricsHost(), config.metricsPort());
        TunEnd end;
        try {
            end = config.attach() ? TunEnd.attach(config.end(), registry) : TunEnd.open(config.end(), registry);
        } catch (IOException | RuntimeException e) {
            metrics.close();
            throw e;
        }
        try {
            for (HostBridgeConfig.Route r : config.routes()) {
                addRoute(end.deviceName(), r);
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            end.close();
            metrics.close();
            throw e;
        }
        HostBridge hb = new HostBridge(end, metrics);
        if (config.export() != null) {
            try {
                // After toe0 has its address: the export binds to it and nothing else.
                hb.export = io.cardnet.hostbridge.export.ExportServer.start(config.export(), registry);
            } catch (IOException | RuntimeException e) {
                hb.close();
                throw e;
            }
        }
        log.info("host-bridge ready: {} at {}, metrics on http://{}:{}/metrics", end.deviceName(),
                config.end().address(), config.metricsHost(), metrics.port());
        return hb;
    }

    /** Routes through the card; {@code ip route replace} so a restart finds nothing in its way. */
    private static void addRoute(String device, HostBridgeConfig.Route route) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "route", "replace", route.subnet(), "via", route.via(),
                "dev", device, "onlink"));
        io.cardnet.netdev.Subprocess.Result r = io.cardnet.netdev.Subprocess.run(cmd, java.time.Duration.ofSeconds(10));
        if (!r.ok()) {
            throw new IOException("could not add the route " + route + " on " + device + ": " + r.describe());
        }
        log.info("route {} dev {}", route, device);
    }

    @Override
    public void close() {
        if (export != null) {
            export.close();
        }
        end.close();
        metrics.close();
    }
}
