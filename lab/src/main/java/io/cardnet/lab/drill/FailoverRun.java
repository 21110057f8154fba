package io.cardnet.lab.drill;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.PairState;
import io.cardnet.lab.runtime.PairSwitch;
import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * `cardnet failover`: fail a pair's active card in one of the ways a card fails (or switch on purpose), under traffic,
 * and measure what the takeover cost: detection and takeover ms, pings lost, and per flow bytes and SHA-256.
 */
public final class FailoverRun {
    /** How a failover is brought about. */
    public enum Trigger {
        /** `cardnet failover`: a planned switch, both cards alive. */
        SWITCH,
        /** kill -9 of the active's card-node: its bus socket closes. */
        KILL,
        /** SIGSTOP of the active's card-node: a hung firmware, noticed by missed heartbeats; SIGCONT after. */
        HANG,
        /** A surprise removal of the active's link for a few seconds. */
        REMOVE;

        public static Trigger parse(String s) {
            try {
                return valueOf(s.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--trigger takes switch, kill, hang or remove, not '" + s + "'");
            }
        }
    }

    public record Options(Trigger trigger, boolean traffic, Duration timeout) {
    }

    private static final long REMOVAL_MILLIS = 3_000;

    private final Lab lab;
    private final Options options;
    private final Consumer<String> progress;

    public FailoverRun(Lab lab, Options options, Consumer<String> progress) {
        this.lab = lab;
        this.options = options;
        this.progress = progress;
    }

    public FailoverReport run() throws Exception {
        PairState before = PairState.load(lab.runDir());
        if (before.standby() < 0) {
            throw new LabException("card " + PairState.load(lab.runDir()).active() + " is the only card in service: the"
                    + " other is failed. Bring it back (`cardnet lab restart card-node --card "
                    + (1 - before.active()) + " --name " + lab.config().name() + "`) and it becomes the standby");
        }
        if (options.trigger() != Trigger.SWITCH && before.monitorPid() == 0) {
            throw new LabException("the pair's monitor is not running, so nothing would notice a failure; see "
                    + lab.runDir().resolve("pair-monitor.log"));
        }
        String started = Instant.now().toString();
        int active = before.active();
        PairTraffic traffic = options.traffic() ? PairTraffic.start(lab) : null;
        try {
            if (traffic != null) {
                traffic.settleThenMark(progress);
            }
            long t0 = System.currentTimeMillis();
            long pid = lab.pid(active, Component.CARD_NODE);
            switch (options.trigger()) {
                case SWITCH -> PairSwitch.takeover(lab, before.standby(), true, "forced: cardnet failover", t0);
                case KILL -> {
                    progress.accept("kill -9 of card " + active + "'s card-node (pid " + pid + ")");
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
                case HANG -> {
                    progress.accept("SIGSTOP to card " + active + "'s card-node (pid " + pid + "): a hung firmware");
                    Shell.check(List.of("kill", "-STOP", Long.toString(pid)));
                }
                case REMOVE -> {
                    progress.accept("surprise removal of card " + active + "'s link for " + REMOVAL_MILLIS + " ms");
                    ControlClient.request(lab.card(active).controlSocket(), Map.of("op", "fault", "kind",
                            "surprise-removal", "direction", "both", "millis", REMOVAL_MILLIS));
                }
            }
            PairState after;
            try {
                after = awaitTakeover(before.generation());
            } finally {
                if (options.trigger() == Trigger.HANG) {
                    Shell.run(List.of("kill", "-CONT", Long.toString(pid)), 10);
                    progress.accept("SIGCONT to pid " + pid + ": the hung card runs again, fenced, and comes back as the"
                            + " standby");
                }
            }
            PairTraffic.Outcome seen = traffic == null ? new PairTraffic.Outcome(List.of(), null, -1, -1)
                    : traffic.finishAfter(t0);
            String note = options.trigger() == Trigger.KILL ? "card " + active + " stays down until `cardnet lab restart"
                    + " card-node --card " + active + "`; then it is the standby" : null;
            FailoverReport r = FailoverReport.of(lab.config().name(), started, options.trigger().name().toLowerCase(
                    java.util.Locale.ROOT), t0, after.last(), seen.longestGapMillis(), seen.pings(), seen.flows(), note);
            return r;
        } finally {
            if (traffic != null) {
                traffic.close();
            }
        }
    }

    private PairState awaitTakeover(int generation) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + options.timeout().toNanos();
        while (System.nanoTime() < deadline) {
            PairState s = PairState.load(lab.runDir());
            if (s.generation() > generation) {
                return s;
            }
            Thread.sleep(5);
        }
        throw new LabException("no takeover within " + options.timeout().toMillis() + " ms of the " + options.trigger()
                .name().toLowerCase(java.util.Locale.ROOT) + "; see " + lab.runDir().resolve("pair-monitor.log"));
    }
}
