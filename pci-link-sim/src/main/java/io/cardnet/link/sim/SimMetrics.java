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
    private final Map<String, io.micrometer.core.instrument.DistributionSummary> framesPerInterrupt = new ConcurrentHashMap<>();
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

    void tlps(Direction d, int n) {
        counter("tlps/" + d.tag(), "cardnet.bus.tlps", "transaction-layer packets on the wire, modelled",
                "direction", d.tag()).increment(n);
    }

    /** Modelled time the wire spent carrying descriptors; divided by elapsed time, the link's utilisation. */
    void wireBusy(Direction d, long nanos) {
        counter("wirebusy/" + d.tag(), "cardnet.bus.wire.busy.nanoseconds",
                "modelled time the wire was busy with descriptors (paced models only)", "direction", d.tag()).increment(nanos);
    }

    /** A descriptor whose sequence skipped ahead (it is still carried: the gap is what went missing before it). */
    void sequenceGap(Direction d) {
        counter("seqgap/" + d.tag(), "cardnet.bus.sequence.gaps", "descriptors whose sequence number skipped ahead",
                "direction", d.tag()).increment();
    }

    void ringFull(Direction d) {
        counter("ringfull/" + d.tag(), "cardnet.ring.full", "times a ring filled: the producer is out of credits",
                "direction", d.tag()).increment();
    }

    void doorbell(Direction d) {
        counter("doorbell/" + d.tag(), "cardnet.bus.doorbells", "doorbells rung by the producer",
                "direction", d.tag()).increment();
    }

    void pollRecovery(Direction d) {
        counter("poll/" + d.tag(), "cardnet.bus.doorbell.poll.recoveries",
                "posted descriptors found by the poll timer because their doorbell was lost", "direction", d.tag()).increment();
    }

    void replay(Direction d) {
        counter("replay/" + d.tag(), "cardnet.bus.replays", "TLPs replayed by the data-link layer after a CRC error",
                "direction", d.tag()).increment();
    }

    void faultInjected(Direction d, io.cardnet.link.model.FaultKind k) {
        counter("injected/" + d.tag() + "/" + k.cliName(), "cardnet.bus.faults.injected", "faults injected, by kind",
                "direction", d.tag(), "kind", k.cliName()).increment();
    }

    /** An interrupt ({@code kind} receive or completion) covering {@code frames} descriptors. */
    void interrupt(Direction d, String kind, int frames) {
        counter("interrupt/" + d.tag() + "/" + kind, "cardnet.bus.interrupts", "interrupts raised, by kind",
                "direction", d.tag(), "kind", kind).increment();
        framesPerInterrupt.computeIfAbsent(d.tag() + "/" + kind, k -> io.micrometer.core.instrument.DistributionSummary
                .builder("cardnet.bus.frames.per.interrupt").description("descriptors covered by one interrupt")
                .tag("direction", d.tag()).tag("kind", kind).register(registry)).record(frames);
    }

    private Counter counter(String key, String name, String description, String... tags) {
        return dynamic.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags)
                .register(registry));
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
