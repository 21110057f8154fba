package io.cardnet.lab.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What a soak does to the lab and when, fixed before it starts so that every disturbance is known by time and
 * kind (the report explains log lines and lost pings by them).
 *
 * <pre>
 *  0 ─ card restart (5%) ─┬─ faults switched every few seconds until the end ──────────────────┬─ end: faults
 *                         │  capture 35–45% · model 55% · coalescing 60% · settings back 70%   │  cleared, settings
 *                         │  link flaps evenly spread over 6–90% (20 per 10 minutes)           │  put back
 * </pre>
 *
 * The card restarts first so that the new card-node lives through most of the soak: its trends need samples.
 *
 * Only faults the link or TCP recover from without losing a byte are switched: drop (TCP retransmits), reorder
 * (TCP reorders), bitflip (the link CRC catches it and the link replays the descriptor) and lost-doorbell (the
 * engine's poll finds the descriptor). Poison is left out on purpose: it corrupts a packet after the link CRC,
 * and with checksum-unnecessary nobody checks again, so it would change bytes, which is what it is for.
 *
 * @param duration    the whole run
 * @param faultEvery  how often the probabilistic fault changes
 * @param flapMillis  how long each injected flap keeps the link down
 */
public record SoakPlan(Duration duration, Duration faultEvery, long flapMillis, List<Step> steps) {

    /** Link flaps per 10 minutes (issue 14): a shorter run gets proportionally fewer, at least one. */
    public static final int FLAPS_PER_10_MIN = 20;

    /** One thing the soak does at {@code atMillis} after its start. */
    public record Step(long atMillis, Action action) {
    }

    /** The kinds of disturbance; each names the log lines and ping losses it may explain. */
    public sealed interface Action {
        /** A short name for reports: "flap", "fault drop", "card restart", ... */
        String describe();
    }

    /** The link drops for {@code millis} and retrains by itself. */
    public record Flap(long millis) implements Action {
        public String describe() {
            return "link flap " + millis + " ms";
        }
    }

    /** A probabilistic fault on both directions ({@code kind} null: none, all cleared). */
    public record Fault(String kind, double probability) implements Action {
        public String describe() {
            return kind == null ? "faults cleared" : "fault " + kind + " p=" + probability;
        }
    }

    public record CaptureStart() implements Action {
        public String describe() {
            return "capture started";
        }
    }

    public record CaptureStop() implements Action {
        public String describe() {
            return "capture stopped";
        }
    }

    /**
     * A link setting changed at run time (the PCIe model, interrupt coalescing): {@code request} is what
     * `cardnet link set` would send the simulator's control socket, without its "op".
     */
    public record Setting(String what, java.util.Map<String, Object> request) implements Action {
        public String describe() {
            return "link set " + what;
        }
    }

    /** The link settings the soak found, put back. */
    public record RestoreSettings() implements Action {
        public String describe() {
            return "link settings put back";
        }
    }

    /** card-node stops and starts again (`cardnet lab restart card-node`). */
    public record CardRestart() implements Action {
        public String describe() {
            return "card restart";
        }
    }

    /** The faults switched in turn; none is one of them, so the bus also runs its direct path between faults. */
    static final List<Fault> FAULT_ROTATION = List.of(new Fault("drop", 0.005), new Fault("reorder", 0.01),
            new Fault("bitflip", 0.001), new Fault("lost-doorbell", 0.01), new Fault(null, 0));

    /** Flaps scaled to the run: {@link #FLAPS_PER_10_MIN} in 10 minutes, proportionally fewer, at least one. */
    static int flaps(Duration duration) {
        return (int) Math.max(1, Math.round(FLAPS_PER_10_MIN * duration.toMillis() / 600_000.0));
    }

    public static SoakPlan of(Duration duration, Duration faultEvery, long flapMillis) {
        if (duration.toSeconds() < 30) {
            throw new IllegalArgumentException("--duration must be at least 30s (a soak needs room for its events"
                    + " and enough 10 s samples to fit a slope); got " + duration.toSeconds() + " s");
        }
        if (faultEvery.toMillis() < 500) {
            throw new IllegalArgumentException("--fault-every must be at least 500ms, got " + faultEvery.toMillis() + " ms");
        }
        long d = duration.toMillis();
        List<Step> steps = new ArrayList<>();
        steps.add(new Step(at(d, 0.05), new CardRestart()));
        steps.add(new Step(at(d, 0.35), new CaptureStart()));
        steps.add(new Step(at(d, 0.45), new CaptureStop()));
        steps.add(new Step(at(d, 0.55), new Setting("--model gen3x4", java.util.Map.of("model", "gen3x4"))));
        steps.add(new Step(at(d, 0.60), new Setting("--coalesce-frames 16 --coalesce-usecs 50",
                java.util.Map.of("direction", "both", "coalesceFrames", 16, "coalesceMicros", 50))));
        steps.add(new Step(at(d, 0.70), new RestoreSettings()));
        int n = flaps(duration);
        // evenly spread, after the card's restart and clear of the end
        long from = at(d, 0.06);
        long to = at(d, 0.90);
        for (int i = 0; i < n; i++) {
            steps.add(new Step(from + (long) ((i + 0.5) * (to - from) / n), new Flap(flapMillis)));
        }
        int k = 0;
        for (long t = from; t < d; t += faultEvery.toMillis()) {
            steps.add(new Step(t, FAULT_ROTATION.get(k++ % FAULT_ROTATION.size())));
        }
        steps.sort(Comparator.comparingLong(Step::atMillis));
        return new SoakPlan(duration, faultEvery, flapMillis, List.copyOf(steps));
    }

    private static long at(long durationMillis, double fraction) {
        return (long) (durationMillis * fraction);
    }

    public long count(Class<? extends Action> kind) {
        return steps.stream().filter(s -> kind.isInstance(s.action())).count();
    }
}
