package io.cardnet.lab.drill;

import io.cardnet.card.CardNodeConfig;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.NetNamespace;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * `cardnet drill`: patch the card's firmware the way an operator would, and measure what it costs.
 *
 * <pre>
 *  check the new firmware ── refused? stop here, nothing touched
 *  install it into the standby slot
 *  security probe (before) · start traffic: routed host→wire TCP, host→card TCP, ping every 10 ms
 *  swap = reboot the card into the standby slot (its namespace is recreated)
 *  health checks within the watchdog ── pass: commit │ fail: reboot into the old slot (roll back)
 *  stop traffic, count and hash what arrived · security probe (after) · report
 * </pre>
 *
 * The host's addresses, routes and routed TCP flows are the hard state a swap must keep; the card's own
 * connections are soft state, gone with the old namespace.
 */
public final class Drill {

    private static final int WIRE_SINK_PORT = 5191;
    private static final long SETTLE_MILLIS = 1_000;
    /** How long a flow may take to move its next bytes before the drill reports it as it is. */
    private static final long PROGRESS_DEADLINE_MILLIS = 30_000;
    /** Linux's cap on a TCP retransmission timeout, however often it has backed off (include/net/tcp.h). */
    private static final long TCP_RTO_MAX_MILLIS = 120_000;

    /** @param firmware the directory to install; @param traffic run flows and pings through the swap */
    public record Options(Path firmware, Duration watchdog, boolean traffic) {
    }

    private final DrillTarget lab;
    private final Options options;
    private final Consumer<String> progress;
    private final List<DrillReport.Event> timeline = new ArrayList<>();

    public Drill(DrillTarget lab, Options options, Consumer<String> progress) {
        this.lab = lab;
        this.options = options;
        this.progress = progress;
    }

    public DrillReport run() throws Exception {
        try {
            return drill();
        } finally {
            lab.done();
        }
    }

    private DrillReport drill() throws Exception {
        Firmware target;
        try {
            target = FirmwareLoader.load(options.firmware());
        } catch (FirmwareException e) {
            throw new LabException("firmware refused, nothing was changed: " + e.getMessage());
        }
        LabState.FirmwareSlots slots = lab.slots();
        String oldSlot = slots.active();
        String before = slots.activeVersion();
        String standby = slots.standby();
        String started = Instant.now().toString();
        progress.accept("drill " + before + " → " + target.version() + " on lab " + lab.name());
        String hostBefore = hostState();
        String kernelBefore = lab.kernel();
        progress.accept("the card runs kernel " + kernelBefore);
        Firmware installed = lab.install(standby, target);
        DrillReport.ProbeResult probeBefore = SecurityProbe.run(lab);
        progress.accept("security probe before: " + (probeBefore.passed() ? "passes" : "fails") + " (" + probeBefore.detail() + ")");

        Traffic traffic = options.traffic() ? Traffic.start(lab) : null;
        try {
            if (traffic != null) {
                progress.accept("traffic running: routed host→wire TCP, host→card TCP, ping every 10 ms");
                Thread.sleep(SETTLE_MILLIS);
                traffic.awaitFlowing();
                traffic.markSwap();
            }
            long t0 = System.nanoTime();
            long t0Wall = System.currentTimeMillis();
            event("swap: the card reboots into " + target.version() + " (nothing of the old card's kernel state"
                    + " survives)", t0);
            HealthWatch.Outcome health;
            String result;
            try (LinkWatch link = LinkWatch.start(lab, t0)) {
                swap(standby, oldSlot);
                boolean up = link.awaitUp(options.watchdog().toMillis());
                addEvent("link down", link.downAt());
                addEvent("link up: the new card trained", link.upAt());
                health = up ? HealthWatch.await(lab, installed, t0, t0 + options.watchdog().toNanos())
                        : new HealthWatch.Outcome(false, -1, List.of(new DrillReport.CheckResult("link up", "-", false,
                        -1, "the card did not train within the watchdog")));
            }
            if (health.passed()) {
                addEvent("health checks passed", health.passedAtMillis());
                result = "committed";
                event("committed: slot " + standby + " (" + target.version() + ") is active", t0);
            } else {
                event("watchdog: health checks not passed within " + options.watchdog().toMillis() + " ms; rolling back to "
                        + before, t0);
                // The old firmware is known to boot: it gets the time a boot of this card takes (a VM card's ~40 s
                // under TCG), counted from the rollback, however short the new firmware's watchdog was.
                Duration budget = options.watchdog().compareTo(lab.defaultWatchdog()) > 0 ? options.watchdog()
                        : lab.defaultWatchdog();
                long r0 = System.nanoTime();
                try (LinkWatch link = LinkWatch.start(lab, t0)) {
                    lab.reboot(oldSlot);
                    link.awaitUp(budget.toMillis());
                    addEvent("link up: the old firmware trained", link.upAt());
                }
                HealthWatch.Outcome old = HealthWatch.await(lab, firmwareOf(oldSlot), t0,
                        r0 + budget.toNanos());
                if (old.passed()) {
                    addEvent("old firmware healthy again", old.passedAtMillis());
                } else {
                    event("old firmware NOT healthy within " + budget.toMillis() + " ms of the rollback", t0);
                }
                result = "rolled back";
            }
            if (traffic != null) {
                Thread.sleep(SETTLE_MILLIS);
                if (traffic.awaitRoutedProgress(lab, progress)) {
                    event("the routed flow writes again", t0);
                } else {
                    event("the routed flow made no progress since the card came back; host TCP: "
                            + traffic.routedTcpState(lab), t0);
                }
                traffic.firstReplyAfter(t0Wall).ifPresent(ms -> addEvent("first ping answered after the swap", ms));
            }
            timeline.sort(java.util.Comparator.comparingLong(DrillReport.Event::atMillis));
            List<DrillReport.FlowOutcome> flows = traffic == null ? List.of() : traffic.finish();
            DrillReport.Pings pings = traffic == null ? null : traffic.pings();
            long outage = traffic == null ? -1 : traffic.longestGapAround(t0Wall);
            DrillReport.ProbeResult probeAfter = SecurityProbe.run(lab);
            progress.accept("security probe after: " + (probeAfter.passed() ? "passes" : "fails") + " (" + probeAfter.detail() + ")");
            String hostAfter = hostState();
            String kernelAfter = lab.kernel();
            progress.accept("the card runs kernel " + kernelAfter);
            return new DrillReport(lab.name(), started, before, target.version(),
                    lab.slots().activeVersion(), result, options.watchdog().toMillis(), List.copyOf(timeline),
                    outage, pings, flows, health.checks(), probeBefore, probeAfter,
                    new DrillReport.HostState(hostBefore.equals(hostAfter), hostBefore, hostAfter), kernelBefore,
                    kernelAfter);
        } finally {
            if (traffic != null) {
                traffic.close();
            }
        }
    }

    /** toe0's addresses and the host side's IPv4 routes through it, as `ip` prints them. */
    private String hostState() throws java.io.IOException {
        String addr = io.cardnet.lab.runtime.Shell.ipIn(lab.hostNamespace(), "-4", "-o", "addr", "show", "dev",
                io.cardnet.lab.runtime.LabNames.HOST_DEVICE);
        String routes = io.cardnet.lab.runtime.Shell.ipIn(lab.hostNamespace(), "-4", "route", "show", "dev",
                io.cardnet.lab.runtime.LabNames.HOST_DEVICE);
        return (addr.replaceAll("\\s+", " ").replaceAll("valid_lft.*", "").strip() + "; "
                + routes.replaceAll("\\s+", " ").strip());
    }

    /** Reboots into {@code slot}; if that fails half-way, boots the old slot again before reporting why. */
    private void swap(String slot, String oldSlot) throws java.io.IOException {
        try {
            lab.reboot(slot);
        } catch (java.io.IOException | RuntimeException e) {
            progress.accept("the swap failed (" + e.getMessage() + "); booting the old slot " + oldSlot + " again");
            lab.reboot(oldSlot);
            throw new LabException("the swap to slot " + slot + " failed and the card was rebooted into slot " + oldSlot
                    + ": " + e.getMessage());
        }
    }

    private Firmware firmwareOf(String slot) throws java.io.IOException {
        return lab.firmware(slot);
    }

    private void event(String what, long t0) {
        addEvent(what, (System.nanoTime() - t0) / 1_000_000);
    }

    private void addEvent(String what, long atMillis) {
        if (atMillis >= 0) {
            timeline.add(new DrillReport.Event(what, atMillis));
            progress.accept(String.format("+%5d ms  %s", atMillis, what));
        }
    }

    /** The drill's background traffic and where it goes. */
    private static final class Traffic implements AutoCloseable {
        private final Sink wireSink;
        private final CompletableFuture<TransferReport> wireReport;
        private final Flow routed;
        private final Flow card;
        private final Pinger ping;

        private Traffic(Sink wireSink, CompletableFuture<TransferReport> wireReport, Flow routed, Flow card, Pinger ping) {
            this.wireSink = wireSink;
            this.wireReport = wireReport;
            this.routed = routed;
            this.card = card;
            this.ping = ping;
        }

        static Traffic start(DrillTarget lab) throws Exception {
            String peer = lab.peerAddress();
            InetSocketAddress wire = new InetSocketAddress(peer, WIRE_SINK_PORT);
            Sink sink = NetNamespace.call(lab.wireNamespace(), () -> Sink.listen(wire));
            CompletableFuture<TransferReport> report = CompletableFuture.supplyAsync(() -> {
                try {
                    return sink.acceptOne();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Flow routed = new Flow("host→wire (routed by the card)", true,
                    lab.onHostSide(() -> SocketChannel.open(wire)), lab.trafficPace().routedBytesPerSecond()).start();
            Flow card = new Flow("host→card sink (terminated on the card)", false,
                    lab.onHostSide(() -> SocketChannel.open(new InetSocketAddress(lab.cardAddress(), CardNodeConfig.SINK_PORT))),
                    lab.trafficPace().cardBytesPerSecond()).start();
            return new Traffic(sink, report, routed, card, Pinger.start(lab.hostNamespace(), lab.cardAddress()));
        }

        /** Before the swap: both flows have written something (or failed), however busy the machine is. */
        void awaitFlowing() throws InterruptedException {
            routed.awaitSent(0, PROGRESS_DEADLINE_MILLIS);
            card.awaitSent(0, PROGRESS_DEADLINE_MILLIS);
        }

        void markSwap() {
            routed.markSwap();
            card.markSwap();
        }

        /**
         * After the card is back: the routed flow has written more than it had when the card came back, so its
         * report shows whether bytes written after the swap arrived too. A deadline, not a rate: TCP backs off
         * while the card is away, doubling its retransmission timeout from the first unanswered segment, which may
         * predate the swap (a cold TCG card VM forwards so slowly right after `lab up` that the flow is already
         * retransmitting). Its next try may so come later than the outage is long: a VM card back after 101 s was
         * retried only after the 10 s grace this wait used to add to the outage, and the flow was reported reset.
         * Linux caps the timeout at TCP_RTO_MAX, so 120 s after the card is back the host has tried again, however
         * long the card was away; 30 s more let a slow card carry the retransmission and its acknowledgement. The wait
         * ends as soon as the flow moves (15–16 s after 28 and 42 s VM outages, measured: rto 24 s, backoff 4).
         */
        boolean awaitRoutedProgress(DrillTarget lab, Consumer<String> progress) throws InterruptedException {
            long now = routed.sent();
            if (routed.awaitSent(now, 2_000)) {
                return true;
            }
            progress.accept("waiting for the routed flow to move again: the host's TCP retransmits after its backed-off"
                    + " timeout, at most " + TCP_RTO_MAX_MILLIS / 1000 + " s (TCP_RTO_MAX) from now; host TCP: "
                    + routedTcpState(lab));
            return routed.awaitSent(now, TCP_RTO_MAX_MILLIS + 30_000);
        }

        /**
         * The host kernel's view of the routed flow ({@code ss -tin}: rto, backoff, unacked, lastsnd, lastack), so a
         * report of a stuck flow says whether TCP was still backing off or had given up, not only that it stalled.
         */
        String routedTcpState(DrillTarget lab) {
            try {
                var r = io.cardnet.lab.runtime.Shell.run(io.cardnet.lab.runtime.Shell.inNamespace(lab.hostNamespace(),
                        List.of("ss", "-tinH", "dst", lab.peerAddress(), "dport", "=", ":" + WIRE_SINK_PORT)), 10);
                String s = r.output().replaceAll("\\s+", " ").strip();
                return s.isEmpty() ? "no such connection" : s;
            } catch (java.io.IOException e) {
                return "unknown (" + e.getMessage() + ")";
            }
        }

        List<DrillReport.FlowOutcome> finish() throws Exception {
            List<DrillReport.FlowOutcome> out = new ArrayList<>();
            out.add(routed.finish());
            out.add(card.finish());
            return out;
        }

        DrillReport.Pings pings() {
            long sent = ping.sent();
            long received = ping.replies().stream().filter(r -> r[1] <= sent).count();
            return new DrillReport.Pings(sent, received, sent - received);
        }

        /** The longest time between two replies where the second came after the swap began, in ms. */
        long longestGapAround(long t0Wall) {
            long best = 0;
            List<long[]> r = ping.replies();
            for (int i = 1; i < r.size(); i++) {
                if (r.get(i)[0] >= t0Wall) {
                    best = Math.max(best, r.get(i)[0] - r.get(i - 1)[0]);
                }
            }
            return best;
        }

        /** ms after the swap of the first reply that ended the outage. */
        java.util.Optional<Long> firstReplyAfter(long t0Wall) {
            List<long[]> r = ping.replies();
            long gap = 0;
            Long at = null;
            for (int i = 1; i < r.size(); i++) {
                if (r.get(i)[0] >= t0Wall && r.get(i)[0] - r.get(i - 1)[0] > gap) {
                    gap = r.get(i)[0] - r.get(i - 1)[0];
                    at = r.get(i)[0] - t0Wall;
                }
            }
            return java.util.Optional.ofNullable(at);
        }

        @Override
        public void close() throws Exception {
            ping.close();
            routed.close();
            card.close();
            wireSink.close();
            wireReport.cancel(true);
        }
    }
}
