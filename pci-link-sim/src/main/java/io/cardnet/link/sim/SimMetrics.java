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
 * {@code cardnet_bus_notifications_refused_total{direction,frame,reason}},
 * {@code cardnet_link_transitions_total{to}}, {@code cardnet_bus_corrupted_checksums_total}.
 */
final class SimMetrics {
    private final MeterRegistry registry;
    private final Map<Direction, Counter> frames = new EnumMap<>(Direction.class);
    private final Map<Direction, Counter> bytes = new EnumMap<>(Direction.class);
    private final Map<String, Counter> dynamic = new ConcurrentHashMap<>();
    private final io.micrometer.core.instrument.DistributionSummary[] framesPerInterrupt =
            new io.micrometer.core.instrument.DistributionSummary[Direction.values().length * 2];
    private final PerDirection tlps = new PerDirection("tlps", "cardnet.bus.tlps",
            "transaction-layer packets on the wire, modelled");
    private final PerDirection wireBusy = new PerDirection("wirebusy", "cardnet.bus.wire.busy.nanoseconds",
            "modelled time the wire was busy with descriptors (paced models only)");
    private final PerDirection sequenceGaps = new PerDirection("seqgap", "cardnet.bus.sequence.gaps",
            "descriptors whose sequence number skipped ahead");
    private final PerDirection ringFull = new PerDirection("ringfull", "cardnet.ring.full",
            "times a ring filled: the producer is out of credits");
    private final PerDirection doorbells = new PerDirection("doorbell", "cardnet.bus.doorbells",
            "doorbells rung by the producer");
    private final PerDirection pollRecoveries = new PerDirection("poll", "cardnet.bus.doorbell.poll.recoveries",
            "posted descriptors found by the poll timer because their doorbell was lost");
    private final PerDirection replays = new PerDirection("replay", "cardnet.bus.replays",
            "TLPs replayed by the data-link layer after a CRC error");
    private final PerDirection receiveInterrupts = new PerDirection("interrupt", "cardnet.bus.interrupts",
            "interrupts raised, by kind", "kind", "receive");
    private final PerDirection completionInterrupts = new PerDirection("interrupt", "cardnet.bus.interrupts",
            "interrupts raised, by kind", "kind", "completion");
    final Counter corruptedChecksums;
    /** Connections to the control socket refused because the peer (SO_PEERCRED) is neither the lab's owner nor root. */
    final Counter controlRefused;

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
        controlRefused = Counter.builder("cardnet.control.refused")
                .description("control-socket connections refused: the peer was neither the lab's owner nor root")
                .register(registry);
        // Every series exists from the start, at zero, so a dashboard or an alert sees it before its first event.
        for (Direction d : Direction.values()) {
            for (PerDirection p : java.util.List.of(tlps, wireBusy, sequenceGaps, ringFull, doorbells, pollRecoveries,
                    replays, receiveInterrupts, completionInterrupts)) {
                p.get(d);
            }
            for (String reason : DROP_REASONS) {
                dropCounter(d, reason);
            }
            Map<NotificationRefusal, Counter> refused = new EnumMap<>(NotificationRefusal.class);
            for (NotificationRefusal why : NotificationRefusal.values()) {
                refused.put(why, counter("refused/" + d.tag() + "/" + why.frame() + "/" + why.reason(),
                        "cardnet.bus.notifications.refused",
                        "doorbells and RX_DONEs refused or clamped: another epoch's, behind the last, beyond the ring",
                        "direction", d.tag(), "frame", why.frame(), "reason", why.reason()));
            }
            notificationsRefused.put(d, refused);
            for (io.cardnet.link.model.FaultKind k : io.cardnet.link.model.FaultKind.values()) {
                faultCounter(d, k);
            }
        }
    }

    /** Why the bus drops a descriptor: what `cardnet_bus_drops_total{reason}` can say. */
    static final java.util.List<String> DROP_REASONS = java.util.List.of("port_refused", "link_down", "stale_epoch",
            "replayed", "out_of_window", "ring_overrun", "fault_drop");

    /** Refused doorbells and RX_DONEs, by direction and reason, resolved once: a flood of them costs one add each. */
    private final Map<Direction, Map<NotificationRefusal, Counter>> notificationsRefused = new EnumMap<>(Direction.class);

    /** A doorbell or RX_DONE that cannot be right: `cardnet_bus_notifications_refused_total{direction,frame,reason}`. */
    void notificationRefused(Direction d, NotificationRefusal why) {
        notificationsRefused.get(d).get(why).increment();
    }

    void carried(Direction d, int packetBytes) {
        frames.get(d).increment();
        bytes.get(d).increment(packetBytes);
    }

    /**
     * What the ends moved on the direct rings since the last look, read from the rings' own counters: descriptors
     * and bytes carried, doorbells that woke the consumer (receive interrupts, in the socket paths' terms) and
     * bells that returned credits to a stalled producer (completion interrupts).
     */
    void carriedDirect(Direction d, long descriptors, long packetBytes, long doorbellsRung, long completions) {
        frames.get(d).increment(descriptors);
        bytes.get(d).increment(packetBytes);
        if (doorbellsRung > 0) {
            doorbells.get(d).increment(doorbellsRung);
            receiveInterrupts.get(d).increment(doorbellsRung);
            // each doorbell woke the consumer for its share of the descriptors: sum and count stay exact
            double each = (double) descriptors / doorbellsRung;
            for (long i = 0; i < doorbellsRung; i++) {
                framesPerInterrupt(d, "receive").record(each);
            }
        }
        if (completions > 0) {
            completionInterrupts.get(d).increment(completions);
        }
    }

    /** What the ends' paced transmitters put on the wire on the direct rings: TLPs and busy time. */
    void pacedDirect(Direction d, long tlpCount, long busyNanos) {
        if (tlpCount > 0) {
            tlps.get(d).increment(tlpCount);
        }
        if (busyNanos > 0) {
            wireBusy.get(d).increment(busyNanos);
        }
    }

    /** Per-queue traffic on the direct rings ({@code cardnet_bus_queue_frames_total{direction,queue}}, bytes). */
    void carriedOnQueue(Direction d, int queue, long descriptors, long packetBytes) {
        if (descriptors == 0 && packetBytes == 0) {
            // a queue shows up once it has carried something: a link runs fewer queues than the simulator offers
            return;
        }
        queueFrames.computeIfAbsent(d.tag() + "/" + queue, k -> Counter.builder("cardnet.bus.queue.frames")
                .description("descriptors carried on one queue pair's ring (direct rings)").tag("direction", d.tag())
                .tag("queue", Integer.toString(queue)).register(registry)).increment(descriptors);
        queueBytes.computeIfAbsent(d.tag() + "/" + queue, k -> Counter.builder("cardnet.bus.queue.bytes")
                .description("packet bytes carried on one queue pair's ring (direct rings)").tag("direction", d.tag())
                .tag("queue", Integer.toString(queue)).register(registry)).increment(packetBytes);
    }

    /** Per-queue traffic so far, keyed "h2c/0": frames and bytes. */
    Map<String, long[]> queueTraffic() {
        Map<String, long[]> out = new java.util.TreeMap<>();
        queueFrames.forEach((k, c) -> out.put(k, new long[]{(long) c.count(), (long) queueBytes.get(k).count()}));
        return out;
    }

    private final Map<String, Counter> queueFrames = new ConcurrentHashMap<>();
    private final Map<String, Counter> queueBytes = new ConcurrentHashMap<>();

    double frames(Direction d) {
        return frames.get(d).count();
    }

    double bytes(Direction d) {
        return bytes.get(d).count();
    }

    void drop(Direction d, String reason) {
        dropCounter(d, reason).increment();
    }

    private Counter dropCounter(Direction d, String reason) {
        return counter("drop/" + d.tag() + "/" + reason, "cardnet.bus.drops", "descriptors dropped by the bus, by reason",
                "direction", d.tag(), "reason", reason);
    }

    void fault(Role port, FrameFault.Kind kind) {
        counter("fault/" + port.shortName() + "/" + kind.tag(), "cardnet.bus.faults",
                "malformed frames received and dropped, by port and kind", "port", port.shortName(), "kind", kind.tag())
                .increment();
    }

    void tlps(Direction d, int n) {
        tlps.get(d).increment(n);
    }

    /** Modelled time the wire spent carrying descriptors; divided by elapsed time, the link's utilisation. */
    void wireBusy(Direction d, long nanos) {
        wireBusy.get(d).increment(nanos);
    }

    /** A descriptor whose sequence skipped ahead (it is still carried: the gap is what went missing before it). */
    void sequenceGap(Direction d) {
        sequenceGaps.get(d).increment();
    }

    void ringFull(Direction d) {
        ringFull.get(d).increment();
    }

    void doorbell(Direction d) {
        doorbells.get(d).increment();
    }

    void pollRecovery(Direction d) {
        pollRecoveries.get(d).increment();
    }

    void replay(Direction d) {
        replays.get(d).increment();
    }

    void faultInjected(Direction d, io.cardnet.link.model.FaultKind k) {
        faultCounter(d, k).increment();
    }

    private Counter faultCounter(Direction d, io.cardnet.link.model.FaultKind k) {
        return counter("injected/" + d.tag() + "/" + k.cliName(), "cardnet.bus.faults.injected", "faults injected, by kind",
                "direction", d.tag(), "kind", k.cliName());
    }

    /** An interrupt ({@code kind} "receive" or "completion") covering {@code frames} descriptors. */
    void interrupt(Direction d, String kind, int frames) {
        boolean receive = kind.equals("receive");
        (receive ? receiveInterrupts : completionInterrupts).get(d).increment();
        framesPerInterrupt(d, kind).record(frames);
    }

    private io.micrometer.core.instrument.DistributionSummary framesPerInterrupt(Direction d, String kind) {
        int i = d.ordinal() * 2 + (kind.equals("receive") ? 0 : 1);
        if (framesPerInterrupt[i] == null) {
            framesPerInterrupt[i] = io.micrometer.core.instrument.DistributionSummary
                    .builder("cardnet.bus.frames.per.interrupt").description("descriptors covered by one interrupt")
                    .tag("direction", d.tag()).tag("kind", kind).register(registry);
        }
        return framesPerInterrupt[i];
    }

    /**
     * One counter per direction, registered the first time it moves (so `status` lists only counters that did)
     * and then kept: the engine counts every descriptor, and a key string and map lookup each time would be waste.
     */
    private final class PerDirection {
        private final Counter[] counters = new Counter[Direction.values().length];
        private final String key;
        private final String name;
        private final String description;
        private final String[] extraTags;

        PerDirection(String key, String name, String description, String... extraTags) {
            this.key = key;
            this.name = name;
            this.description = description;
            this.extraTags = extraTags;
        }

        Counter get(Direction d) {
            Counter c = counters[d.ordinal()];
            if (c == null) {
                String[] tags = new String[2 + extraTags.length];
                tags[0] = "direction";
                tags[1] = d.tag();
                System.arraycopy(extraTags, 0, tags, 2, extraTags.length);
                String suffix = extraTags.length == 0 ? "" : "/" + extraTags[1];
                c = counter(key + "/" + d.tag() + suffix, name, description, tags);
                counters[d.ordinal()] = c;
            }
            return c;
        }
    }

    private Counter counter(String key, String name, String description, String... tags) {
        return dynamic.computeIfAbsent(key, k -> Counter.builder(name).description(description).tags(tags)
                .register(registry));
    }

    void transition(LinkState to) {
        counter("transition/" + to, "cardnet.link.transitions", "link state transitions, by the state entered",
                "to", to.name().toLowerCase()).increment();
    }

    /** Current values of the drop, fault and transition counters, keyed "drop/h2c/link_down" etc. */
    Map<String, Double> dynamicCounts() {
        Map<String, Double> out = new java.util.TreeMap<>();
        dynamic.forEach((k, c) -> out.put(k, c.count()));
        return out;
    }
}
