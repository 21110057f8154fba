package io.cardnet.card;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the card's own kernel does, as metrics: datagrams it forwarded (host ⇄ wire), and the packets and bytes
 * each counted rule of its firewall matched. The firewall's counters are read with {@code nft -j list ruleset}
 * every two seconds, not per scrape.
 */
final class CardCounters implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CardCounters.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MeterRegistry registry;
    private final Map<String, long[]> rules = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresh = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "firewall-counters");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean warned;

    private CardCounters(MeterRegistry registry) {
        this.registry = registry;
    }

    static CardCounters start(MeterRegistry registry) {
        CardCounters c = new CardCounters(registry);
        FunctionCounter.builder("cardnet.card.forwarded.datagrams", c, CardCounters::forwarded)
                .description("IP datagrams the card's kernel forwarded (host ⇄ wire), from /proc/net/snmp")
                .register(registry);
        c.readFirewall();
        c.refresh.scheduleWithFixedDelay(c::readFirewall, 2, 2, TimeUnit.SECONDS);
        return c;
    }

    /** Ip: ForwDatagrams of this namespace's /proc/net/snmp. */
    private double forwarded() {
        try {
            List<String> ip = Files.readAllLines(Path.of("/proc/net/snmp")).stream().filter(l -> l.startsWith("Ip:")).toList();
            List<String> names = List.of(ip.get(0).split("\\s+"));
            return Double.parseDouble(ip.get(1).split("\\s+")[names.indexOf("ForwDatagrams")]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private void readFirewall() {
        try {
            String out = io.cardnet.netdev.Subprocess.run(List.of("nft", "-j", "list", "ruleset"), java.time.Duration.ofSeconds(10))
                    .orThrow().stdout();
            for (JsonNode item : JSON.readTree(out).path("nftables")) {
                JsonNode rule = item.path("rule");
                if (rule.isMissingNode()) {
                    continue;
                }
                for (JsonNode expr : rule.path("expr")) {
                    JsonNode counter = expr.path("counter");
                    if (counter.isObject()) {
                        String chain = rule.path("chain").asText();
                        String name = rule.hasNonNull("comment") ? rule.path("comment").asText()
                                : "rule " + rule.path("handle").asText();
                        count(chain, name, counter.path("packets").asLong(), counter.path("bytes").asLong());
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!warned) {
                warned = true;
                log.warn("cannot read the firewall's counters ({}); cardnet_card_firewall_* stay empty", e.getMessage());
            }
        }
    }

    private void count(String chain, String rule, long packets, long bytes) {
        String key = chain + "/" + rule;
        long[] now = rules.get(key);
        if (now == null) {
            long[] fresh = new long[2];
            rules.put(key, fresh);
            FunctionCounter.builder("cardnet.card.firewall.packets", fresh, v -> v[0])
                    .description("packets a counted firewall rule matched").tags("chain", chain, "rule", rule)
                    .register(registry);
            FunctionCounter.builder("cardnet.card.firewall.bytes", fresh, v -> v[1]).baseUnit("bytes")
                    .description("bytes a counted firewall rule matched").tags("chain", chain, "rule", rule)
                    .register(registry);
            now = fresh;
        }
        now[0] = packets;
        now[1] = bytes;
    }

    @Override
    public void close() {
        refresh.shutdownNow();
    }
}
