package io.cardnet.card;

import io.cardnet.card.services.EchoService;
import io.cardnet.card.services.SinkService;
import io.cardnet.link.metrics.MetricsServer;
import io.cardnet.link.port.TunEnd;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The card: an independent IP node. It runs inside the card's network namespace, where host0 (the bus)
 * and eth0 (its network port to the wire) are its interfaces; its own kernel routes between them.
 * card-node is the firmware's runtime: it brings up host0, turns forwarding on, and serves its services.
 */
public final class CardNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CardNode.class);

    private final TunEnd end;
    private final MetricsServer metrics;
    private final List<AutoCloseable> services;

    private CardNode(TunEnd end, MetricsServer metrics, List<AutoCloseable> services) {
        this.end = end;
        this.metrics = metrics;
        this.services = services;
    }

    public static CardNode start(CardNodeConfig config) throws IOException {
        PrometheusMeterRegistry registry = MetricsServer.newRegistry("card-node");
        if (config.firmware() != null) {
            FirmwareBoot.apply(config.firmware());
            io.micrometer.core.instrument.Gauge.builder("cardnet.card.firmware", () -> 1)
                    .description("the firmware the card booted (its version is the tag)")
                    .tag("version", config.firmware().version()).register(registry);
        } else if (config.forwarding()) {
            // /proc/sys/net is per network namespace: this turns forwarding on for the card only.
            Files.writeString(Path.of("/proc/sys/net/ipv4/ip_forward"), "1\n");
        }
        List<AutoCloseable> services = new ArrayList<>();
        services.add(CardCounters.start(registry));
        TunEnd end = null;
        MetricsServer metrics = null;
        try {
            if (config.httpd() != null) {
                // Before the bus: its first start loads Netty's HTTP classes, which would otherwise delay heartbeats.
                services.add(io.cardnet.card.httpd.CardHttpd.start(config.httpd(), registry));
            }
            end = TunEnd.open(config.end(), registry);
            if (config.sinkPort() > 0) {
                services.add(SinkService.start(config.sinkPort(), registry));
            }
            if (config.echoPort() > 0) {
                services.add(EchoService.start(config.echoPort(), registry));
            }
            if (config.consoleSettings() != null) {
                // After host0 is up: the console binds the card's bus address.
                services.add(io.cardnet.card.console.CardConsole.start(config.consoleSettings(), registry));
            }
            if (config.firmware() != null && config.firmware().ipsec() != null) {
                services.add(IpsecBoot.start(config.firmware(), config.ipsecKeys(), registry));
            }
            if (config.relay() != null) {
                services.add(io.cardnet.card.relay.TcpRelay.start(config.relay(), registry));
            }
            // Last: /metrics answering means every service above runs (the lab waits for it before `up` returns).
            // After host0 has its address: it listens on the bus address, not on every interface.
            metrics = MetricsServer.start(registry, config.metricsBindHost(), config.metricsPort());
        } catch (IOException | RuntimeException e) {
            closeAll(services);
            if (end != null) {
                end.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            throw e;
        }
        log.info("card-node ready: {} at {}, firmware {}, forwarding {}, sink :{}, echo :{}, console :{}, relay {}, metrics :{}",
                end.deviceName(), config.end().address(),
                config.firmware() == null ? "none" : config.firmware().version(), config.forwarding() ? "on" : "off",
                config.sinkPort(), config.echoPort(), config.consoleSettings() == null ? 0 : config.consoleSettings().port(),
                config.relay() == null ? "off" : ":" + config.relay().port(),
                metrics.port());
        return new CardNode(end, metrics, services);
    }

    private static void closeAll(List<AutoCloseable> services) {
        for (AutoCloseable s : services) {
            try {
                s.close();
            } catch (Exception e) {
                log.warn("closing {}: {}", s, e.toString());
            }
        }
    }

    @Override
    public void close() {
        closeAll(services);
        end.close();
        metrics.close();
    }
}
