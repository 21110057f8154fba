package io.cardnet.lab.soak;

import io.cardnet.card.CardNodeConfig;
import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.SinkService;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.drill.DrillReport;
import io.cardnet.lab.drill.Flow;
import io.cardnet.lab.drill.Pinger;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The soak's traffic: bulk TCP both ways through the card, and a ping every 10 ms.
 *
 * <pre>
 *  host ── host→wire ──▶ card (routes) ──▶ wire peer's sink          (host connects, host sends)
 *  host ◀── wire→host ── card (routes) ◀── wire peer sends           (host connects, the peer sends back)
 *  host ── host→card ──▶ the card's sink (port 9), one flow per card-node life
 *  host ── ping 10 ms ──▶ the card
 * </pre>
 *
 * Both routed flows are opened by the host, so a firmware whose firewall lets only connections from the host
 * through (1.0.1) carries them as well as 1.0.0 does. They are the host's own TCP state and must survive every
 * flap and the card's restart. The flow to the card's sink ends on card-node, which a restart replaces: the soak
 * closes it cleanly before the restart and opens a new one after, so each of its flows must arrive whole too.
 */
final class SoakTraffic implements AutoCloseable {
    static final int WIRE_SINK_PORT = 5193;
    static final int WIRE_SOURCE_PORT = 5194;
    /** How long a flow may take to move its first bytes, however busy the machine. */
    private static final long FIRST_BYTES_MILLIS = 30_000;

    private final Lab lab;
    private final long rate;
    private final Consumer<String> progress;
    private final Sink wireSink;
    private final CompletableFuture<TransferReport> wireSinkReport;
    private final Flow hostToWire;
    private final ServerSocketChannel wireSource;
    private final Flow wireToHost;
    private final CompletableFuture<TransferReport> hostSinkReport;
    private final List<DrillReport.FlowOutcome> cardFlowsDone = new ArrayList<>();
    private Flow hostToCard;
    private int cardFlows;
    private final Pinger ping;

    private SoakTraffic(Lab lab, long rate, Consumer<String> progress) throws Exception {
        this.lab = lab;
        this.rate = rate;
        this.progress = progress;
        String wireNs = lab.names().wireNamespace();
        String peer = lab.config().addresses().peerWire().address().getHostAddress();
        InetSocketAddress sinkAt = new InetSocketAddress(peer, WIRE_SINK_PORT);
        wireSink = NetNamespace.call(wireNs, () -> Sink.listen(sinkAt));
        wireSinkReport = CompletableFuture.supplyAsync(() -> {
            try {
                return wireSink.acceptOne();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, ownThread("soak-wire-sink"));
        hostToWire = new Flow("host→wire (routed by the card)", true,
                lab.onHostSide(() -> SocketChannel.open(sinkAt)), rate).start();

        // The reverse: the host connects to the peer, which sends; the host's end is the sink.
        InetSocketAddress sourceAt = new InetSocketAddress(peer, WIRE_SOURCE_PORT);
        wireSource = NetNamespace.call(wireNs, () -> {
            ServerSocketChannel s = ServerSocketChannel.open();
            s.bind(sourceAt);
            return s;
        });
        SocketChannel hostEnd = lab.onHostSide(() -> SocketChannel.open(sourceAt));
        wireToHost = new Flow("wire→host (routed by the card)", true, wireSource.accept(), rate).start();
        hostSinkReport = CompletableFuture.supplyAsync(() -> {
            try (hostEnd) {
                return SinkService.answer(hostEnd, IntegrityCheck.SHA256, n -> { });
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, ownThread("soak-host-sink"));
        ping = Pinger.start(lab.hostNamespace(), lab.cardAddress());
        openCardFlow();
    }

    /**
     * A thread of its own for a task that blocks for the whole soak: the common pool has one thread on a 2-core
     * machine, and a sink parked in it would starve every other task given to it.
     */
    static java.util.concurrent.Executor ownThread(String name) {
        return task -> Thread.ofPlatform().daemon().name(name).start(task);
    }

    static SoakTraffic start(Lab lab, long rate, Consumer<String> progress) throws Exception {
        return new SoakTraffic(lab, rate, progress);
    }

    /** Waits until every flow has moved its first bytes; false if one has not within 30 s. */
    boolean awaitFlowing() throws InterruptedException {
        return hostToWire.awaitSent(0, FIRST_BYTES_MILLIS) & wireToHost.awaitSent(0, FIRST_BYTES_MILLIS)
                & (hostToCard == null || hostToCard.awaitSent(0, FIRST_BYTES_MILLIS));
    }

    /** A new flow to the card's sink; the card may still be starting its services, so it retries for a while. */
    void openCardFlow() throws Exception {
        InetSocketAddress sink = new InetSocketAddress(lab.cardAddress(), CardNodeConfig.SINK_PORT);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                hostToCard = new Flow("host→card sink #" + (++cardFlows), true,
                        lab.onHostSide(() -> SocketChannel.open(sink)), rate / 2).start();
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    progress.accept("the card's sink did not accept a connection within 60 s: " + e.getMessage());
                    hostToCard = null;
                    return;
                }
                Thread.sleep(200);
            }
        }
    }

    /** Closes the flow to the card's sink cleanly (half-close, the sink's report): before the card restarts. */
    void finishCardFlow() throws InterruptedException {
        if (hostToCard != null) {
            cardFlowsDone.add(hostToCard.finish());
            hostToCard = null;
        }
    }

    long bytesSent() {
        return hostToWire.sent() + wireToHost.sent() + (hostToCard == null ? 0 : hostToCard.sent())
                + cardFlowsDone.stream().mapToLong(DrillReport.FlowOutcome::bytesSent).sum();
    }

    Pinger pinger() {
        return ping;
    }

    /** Stops every flow (each half-closes and reads its sink's report) and the pings. */
    List<SoakReport.FlowResult> finish() throws Exception {
        finishCardFlow();
        ping.close();
        List<SoakReport.FlowResult> out = new ArrayList<>();
        out.add(result(hostToWire.finish()));
        out.add(reverse(wireToHost.finish()));
        for (DrillReport.FlowOutcome f : cardFlowsDone) {
            out.add(result(f));
        }
        return out;
    }

    private static SoakReport.FlowResult result(DrillReport.FlowOutcome f) {
        return new SoakReport.FlowResult(f.name(), f.bytesSent(), f.bytesDelivered(), f.sha256Equal(), f.note());
    }

    /** The wire→host flow's sender got the host sink's report back; the host sink's own view says the same. */
    private SoakReport.FlowResult reverse(DrillReport.FlowOutcome f) {
        String note = f.note();
        try {
            TransferReport host = hostSinkReport.get(30, java.util.concurrent.TimeUnit.SECONDS);
            note += "; the host's sink counted " + host.bytes();
        } catch (Exception e) {
            note += "; the host's sink did not finish: " + e.getMessage();
        }
        return new SoakReport.FlowResult(f.name(), f.bytesSent(), f.bytesDelivered(), f.sha256Equal(), note);
    }

    @Override
    public void close() throws Exception {
        try {
            ping.close();
        } finally {
            for (AutoCloseable c : new AutoCloseable[]{hostToWire, wireToHost, hostToCard, wireSink, wireSource}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception ignored) {
                        // closing what is left
                    }
                }
            }
            wireSinkReport.cancel(true);
            hostSinkReport.cancel(true);
        }
    }
}
