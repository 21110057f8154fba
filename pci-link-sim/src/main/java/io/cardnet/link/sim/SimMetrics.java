package io.cardnet.link.sim;

import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Role;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulator's counters. Hot-path counters are looked up once and kept, so counting a frame is one add.
 * Prometheus names: {@code cardnet_bus_frames_total{direction}}, {@code cardnet_bus_bytes_total{direction}},
 * {@code cardnet_bus_drops_total{direction,reason}}, {@code cardnet_bus_faults_total{port,kind}},
 * {@code cardnet_link_transitions_total{to}}, {@code cardnet_bus_corrupted_checksums_total}.
 */
final class SimMetrics {
    private final MeterRegistry registry;
    private final Map<Direction, Counter> frames = new EnumMap<>(Direction.class);
    private final Map<Direction, Counter> bytes = new EnumMap<>(Direction.class);
    private final Map<String, Counter> dynamic = new ConcurrentHashMap<>();
    final Counter corruptedChecksums;

    SimMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Direction d : Direction.values()) {
            frames.put(d, Counter.builder("cardnet.bus.frames").description("descriptors carried across the bus")
                    .tag("direction", d.tag()).register(registry));
            bytes.put(d, Counter.builder("cardnet.bus.bytes").description("IP packet bytes carried across the bus")
                    .baseUnit("bytes").tag("direction", d.tag()).register(registry));
        }
        corruptedChecksums = Counter.builder("cardnet.bus.corrupted.checksums")
                .description("TCP checksums flipped by the corrupt-checksum test switch").register(registry);
    }

    MeterRegistry registry() {
        return registry;
    }

    void carried(Direction d, int packetBytes) {
        frames.get(d).increment();
        bytes.get(d).increment(packetBytes);
    }

    double frames(Direction d) {
        return frames.get(d).count();
    }

    double bytes(Direction d) {
        return bytes.get(d).count();
    }

    void drop(Direction d, String reason) {
        dynamic.computeIfAbsent("drop/" + d.tag() + "/" + reason, k -> Counter.builder("cardnet.bus.drops")
                .description("descriptors dropped by the bus, by reason").tag("direction", d.tag())
                .tag("reason", reason).register(registry)).increment();
    }

    void fault(Role port, FrameFault.Kind kind) {
        dynamic.computeIfAbsent("fault/" + port.shortName() + "/" + kind.tag(), k -> Counter.builder("cardnet.bus.faults")
                .description("malformed frames received and dropped, by port and kind").tag("port", port.shortName())
                .tag("kind", kind.tag()).register(registry)).increment();
    }

    void transition(LinkState to) {
        dynamic.computeIfAbsent("transition/" + to, k -> Counter.builder("cardnet.link.transitions")
                .description("link state transitions, by the state entered").tag("to", to.name().toLowerCase())
                .register(registry)).increment();
    }

    /** Current values of the drop, fault and transition counters, keyed "drop/h2c/link_down" etc. */
    Map<String, Double> dynamicCounts() {
        Map<String, Double> out = new java.util.TreeMap<>();
        dynamic.forEach((k, c) -> out.put(k, c.count()));
        return out;
    }
}
