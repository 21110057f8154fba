package io.cardnet.lab.drill;

import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.PairPlan;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.NetNamespace;

import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Traffic through a failover pair, from the host's wire identity to sinks on the wire peer: a routed TCP flow (source
 * {@value PairPlan#HOST_ROUTED}), a NATed one (source {@value PairPlan#HOST_NATED}, which the active card SNATs to
 * the wire identity, so its binding is state the standby must have), and a ping every 10 ms to the wire peer. Both
 * flows are hard state: the report says whether each survived with its SHA-256 intact.
 */
public final class PairTraffic implements AutoCloseable {
    static final int ROUTED_PORT = 5193;
    static final int NATED_PORT = 5194;
    private static final long BYTES_PER_SECOND = 4L << 20;
    private static final long PROGRESS_DEADLINE_MILLIS = 30_000;
    /** Traffic before a switch and after it, so each flow's report has bytes on both sides. */
    private static final long SETTLE_MILLIS = 1_000;

    private final List<Sink> sinks;
    private final List<CompletableFuture<TransferReport>> reports;
    private final List<Flow> flows;
    private final Pinger ping;

    private PairTraffic(List<Sink> sinks, List<CompletableFuture<TransferReport>> reports, List<Flow> flows, Pinger ping) {
        this.sinks = sinks;
        this.reports = reports;
        this.flows = flows;
        this.ping = ping;
    }

    public static PairTraffic start(Lab lab) throws Exception {
        String peer = lab.config().addresses().peerWire().ip();
        List<Sink> sinks = new ArrayList<>();
        List<CompletableFuture<TransferReport>> reports = new ArrayList<>();
        List<Flow> flows = new ArrayList<>();
        try {
            for (int port : List.of(ROUTED_PORT, NATED_PORT)) {
                Sink sink = NetNamespace.call(lab.names().wireNamespace(), () -> Sink.listen(new InetSocketAddress(peer, port)));
                sinks.add(sink);
                // a thread each: the common pool has one thread on a 2-core machine, and a sink serves its flow to the end
                reports.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return sink.acceptOne();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, r -> Thread.ofPlatform().name("pair-sink-" + port).start(r)));
            }
            flows.add(new Flow("host→wire, routed (from " + PairPlan.HOST_ROUTED + ")", true,
                    open(lab, PairPlan.HOST_ROUTED, new InetSocketAddress(peer, ROUTED_PORT)), BYTES_PER_SECOND).start());
            flows.add(new Flow("host→wire, NATed (" + PairPlan.HOST_NATED + " as the wire identity)", true,
                    open(lab, PairPlan.HOST_NATED, new InetSocketAddress(peer, NATED_PORT)), BYTES_PER_SECOND).start());
            return new PairTraffic(sinks, reports, flows, Pinger.start(lab.hostNamespace(), peer));
        } catch (Exception e) {
            for (Flow f : flows) {
                f.close();
            }
            for (Sink s : sinks) {
                s.close();
            }
            throw e;
        }
    }

    private static SocketChannel open(Lab lab, String from, InetSocketAddress to) throws Exception {
        return lab.onHostSide(() -> {
            SocketChannel c = SocketChannel.open();
            c.bind(new InetSocketAddress(from, 0));
            c.connect(to);
            return c;
        });
    }

    /** Both flows have written something (or failed), however busy the machine is. */
    public void awaitFlowing() throws InterruptedException {
        for (Flow f : flows) {
            f.awaitSent(0, PROGRESS_DEADLINE_MILLIS);
        }
    }

    public void markSwitch() {
        flows.forEach(Flow::markSwap);
    }

    /**
     * Before a switch: a second of traffic, every flow moving, then the mark that splits each flow's report into
     * before and after.
     */
    public void settleThenMark(java.util.function.Consumer<String> progress) throws InterruptedException {
        progress.accept("traffic running: routed and NATed host→wire TCP, ping every 10 ms to the wire peer");
        Thread.sleep(SETTLE_MILLIS);
        awaitFlowing();
        markSwitch();
    }

    /**
     * What the traffic saw from {@code sinceWall} on
     *
     * @param flows            each flow's outcome
     * @param pings            sent, answered, lost
     * @param longestGapMillis the longest time between two replies, the second after {@code sinceWall}
     * @param gapEndWall       wall-clock ms of the reply that ended it (-1: no gap)
     */
    public record Outcome(List<DrillReport.FlowOutcome> flows, DrillReport.Pings pings, long longestGapMillis,
                          long gapEndWall) {
    }

    /** After a switch: a second more, every flow moving past it, then the flows finished and judged. */
    public Outcome finishAfter(long sinceWall) throws Exception {
        Thread.sleep(SETTLE_MILLIS);
        awaitProgress();
        List<DrillReport.FlowOutcome> outcomes = finish();
        return new Outcome(outcomes, pings(), longestGapAfter(sinceWall), longestGapEndAfter(sinceWall));
    }

    /** Every flow has written more than it had now (or failed): its report covers bytes after the switch too. */
    public void awaitProgress() throws InterruptedException {
        for (Flow f : flows) {
            f.awaitSent(f.sent(), PROGRESS_DEADLINE_MILLIS);
        }
    }

    public List<DrillReport.FlowOutcome> finish() throws Exception {
        List<DrillReport.FlowOutcome> out = new ArrayList<>();
        for (Flow f : flows) {
            out.add(f.finish());
        }
        return out;
    }

    public DrillReport.Pings pings() {
        long sent = ping.sent();
        long received = ping.replies().stream().filter(r -> r[1] <= sent).count();
        return new DrillReport.Pings(sent, received, sent - received);
    }

    /** The longest time between two ping replies where the second came after {@code sinceWall}, in ms. */
    public long longestGapAfter(long sinceWall) {
        long best = 0;
        List<long[]> r = ping.replies();
        for (int i = 1; i < r.size(); i++) {
            if (r.get(i)[0] >= sinceWall) {
                best = Math.max(best, r.get(i)[0] - r.get(i - 1)[0]);
            }
        }
        return best;
    }

    /** Wall-clock ms of the reply that ended the longest gap after {@code sinceWall} (-1: no gap yet). */
    public long longestGapEndAfter(long sinceWall) {
        long best = 0;
        long at = -1;
        List<long[]> r = ping.replies();
        for (int i = 1; i < r.size(); i++) {
            if (r.get(i)[0] >= sinceWall && r.get(i)[0] - r.get(i - 1)[0] > best) {
                best = r.get(i)[0] - r.get(i - 1)[0];
                at = r.get(i)[0];
            }
        }
        return at;
    }

    @Override
    public void close() throws Exception {
        ping.close();
        for (Flow f : flows) {
            f.close();
        }
        for (Sink s : sinks) {
            s.close();
        }
        reports.forEach(r -> r.cancel(true));
    }
}
