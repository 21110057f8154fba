package io.cardnet.lab.drill;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.PairPlan;
import io.cardnet.lab.runtime.PairState;
import io.cardnet.lab.runtime.PairSwitch;
import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * `cardnet drill --hitless`: patch a failover pair's firmware without an outage.
 *
 * <pre>
 *  install the new firmware into the lab's other slot · start traffic (routed, NATed, ping every 10 ms)
 *  patch the standby: its card-node boots the new firmware (its namespace, wire identity and conntrackd stay)
 *  wait until it is the standby again, synced (the monitor resyncs it from the active)
 *  planned switch to it: commit, wire identity up, host route, fence the old active
 *  patch the old active, now the standby, the same way · optionally switch back (--fail-back)
 * </pre>
 *
 * The report has a plain drill's shape: timeline, outage (the longest gap between ping replies), per-flow bytes and
 * SHA-256, and the host's addresses and routes before and after (the wire route's move excepted).
 */
public final class HitlessDrill {
    public record Options(Path firmware, boolean failBack, boolean traffic, Duration timeout) {
    }

    /** After the monitor made a patched card the standby, the time its bulk resync from the active is given. */
    private static final long RESYNC_MILLIS = 500;

    private final Lab lab;
    private final Options options;
    private final Consumer<String> progress;
    private final List<DrillReport.Event> timeline = new ArrayList<>();
    private long t0;

    public HitlessDrill(Lab lab, Options options, Consumer<String> progress) {
        this.lab = lab;
        this.options = options;
        this.progress = progress;
    }

    public DrillReport run() throws Exception {
        Firmware target;
        try {
            target = FirmwareLoader.load(options.firmware());
        } catch (FirmwareException e) {
            throw new LabException("firmware refused, nothing was changed: " + e.getMessage());
        }
        PairState pair = PairState.load(lab.runDir());
        if (pair.standby() < 0) {
            throw new LabException("a hitless drill needs the standby: card " + PairPlan.other(pair.active())
                    + " is failed; bring it back with `cardnet lab restart card-node --card " + PairPlan.other(pair.active())
                    + "` first");
        }
        LabState.FirmwareSlots slots = lab.state().firmware();
        if (slots == null) {
            throw new LabException("lab '" + lab.config().name() + "' runs card-node without firmware slots");
        }
        String before = slots.activeVersion();
        String slot = slots.standby();
        String started = Instant.now().toString();
        progress.accept("hitless drill " + before + " → " + target.version() + " on pair " + lab.config().name());
        String hostBefore = hostState();
        String kernel = lab.cardKernel();
        lab.installFirmware(slot, target);
        PairTraffic traffic = options.traffic() ? PairTraffic.start(lab) : null;
        try {
            if (traffic != null) {
                traffic.settleThenMark(progress);
            }
            t0 = System.nanoTime();
            long t0Wall = System.currentTimeMillis();
            int a = pair.active();
            int b = pair.standby();
            patch(b, slot, target.version());
            planned(b, "hitless: card " + b + " runs " + target.version());
            patch(a, slot, target.version());
            if (options.failBack()) {
                planned(a, "hitless fail-back to card " + a);
            }
            lab.activateSlot(slot);
            List<DrillReport.FlowOutcome> flows = List.of();
            DrillReport.Pings pings = null;
            long gap = -1;
            if (traffic != null) {
                PairTraffic.Outcome seen = traffic.finishAfter(t0Wall);
                flows = seen.flows();
                pings = seen.pings();
                gap = seen.longestGapMillis();
                long end = seen.gapEndWall();
                if (end >= 0) {
                    // where the outage was: at a switch, or while a patched card's JVM started beside the active
                    timeline.add(new DrillReport.Event("the longest ping gap (" + gap + " ms) ended", end - t0Wall));
                    timeline.sort(java.util.Comparator.comparingLong(DrillReport.Event::atMillis));
                }
            }
            String hostAfter = hostState();
            DrillReport.ProbeResult probe = new DrillReport.ProbeResult("wire → host (not run on a pair: see the"
                    + " firmware's own drill)", true, "not run");
            return new DrillReport(lab.config().name(), started, before, target.version(),
                    lab.state().firmware().activeVersion(), "committed", 0, List.copyOf(timeline), gap, pings, flows,
                    List.of(), probe, probe, new DrillReport.HostState(hostBefore.equals(hostAfter), hostBefore, hostAfter),
                    kernel, lab.cardKernel());
        } finally {
            if (traffic != null) {
                traffic.close();
            }
        }
    }

    /** The standby {@code k} boots the new firmware and is the standby again once synced. */
    private void patch(int k, String slot, String version) throws IOException, InterruptedException {
        event("patching card " + k + " (the standby): card-node boots " + version);
        lab.bootPairCard(k, slot, options.timeout());
        event("card " + k + " runs " + version + ", link trained, services up");
        long deadline = System.nanoTime() + options.timeout().toNanos();
        while (PairState.load(lab.runDir()).standby() != k) {
            if (System.nanoTime() > deadline) {
                throw new LabException("card " + k + " did not become the standby within " + options.timeout().toSeconds()
                        + " s of its patch; see " + lab.runDir().resolve("pair-monitor.log"));
            }
            Thread.sleep(10);
        }
        Thread.sleep(RESYNC_MILLIS);
        event("card " + k + " is the standby, its state resynced from the active");
    }

    private void planned(int to, String reason) throws IOException {
        event("planned switch to card " + to);
        PairState.Takeover t = PairSwitch.takeover(lab, to, true, reason, System.currentTimeMillis());
        event("card " + to + " is the active (switch took " + (t == null ? 0 : t.takeoverMillis()) + " ms)");
    }

    private void event(String what) {
        long at = (System.nanoTime() - t0) / 1_000_000;
        timeline.add(new DrillReport.Event(what, at));
        progress.accept(String.format("+%5d ms  %s", at, what));
    }

    /**
     * The host's addresses on its toes and its wire identity, and its routes except the one to the wire (the one thing
     * a switch changes), as `ip` prints them.
     */
    private String hostState() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String dev : List.of(lab.card(0).hostDevice(), lab.card(1).hostDevice(), PairPlan.HOST_DEVICE)) {
            b.append(Shell.ipIn(lab.hostNamespace(), "-4", "-o", "addr", "show", "dev", dev)
                    .replaceAll("valid_lft.*", "").replaceAll("\\s+", " ").strip()).append("; ");
        }
        String wire = lab.card(0).addresses().wireSubnet();
        for (String line : Shell.ipIn(lab.hostNamespace(), "-4", "route", "show").split("\n")) {
            if (!line.startsWith(wire)) {
                b.append(line.replaceAll("\\s+", " ").strip()).append("; ");
            }
        }
        return b.toString().strip();
    }
}
