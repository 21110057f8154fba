package io.cardnet.link.sim;

import io.cardnet.link.model.FaultInjector;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.model.FaultSettings;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.link.protocol.Train;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The engine wired to its ring, wire clock, fault injector and coalescers, with embedded channels for the two
 * ends and the card channel's event loop, on frozen virtual time: what reaches each end, and when.
 */
class DmaEngineTest {
    private static final int BIG = 65535;
    /** Wire bytes of a 65535-byte descriptor at MPS 256 (docs/link-model.md), 4 ns each at gen1x1. */
    private static final long BUSY = (65535 + 257 * 28 + 16) * 4L;
    /** One doorbell or interrupt: 4 bytes and a TLP's 28 bytes of overhead. */
    private static final long NOTIFICATION = (4 + 28) * 4L;
    private static final long LATENCY = LinkProfile.DEFAULT_LATENCY.toNanos();
    /** What the engine's timer runs ahead of a descriptor's time (DmaEngine.SLACK_NANOS). */
    private static final long SLACK = 20_000;

    private final EmbeddedChannel host = new EmbeddedChannel();
    private final EmbeddedChannel card = new EmbeddedChannel();
    private final SimMetrics metrics = new SimMetrics(new SimpleMeterRegistry());
    private Link link;
    private DmaEngine h2c;
    private long t0;

    private void start(LinkSettings settings, FaultSettings faults) {
        card.freezeTime();
        var loop = card.eventLoop();
        link = new Link(metrics, loop, settings::ringDepth, () -> ~(Features.SHARED_MEMORY | Features.DIRECT_RING), () -> 1);
        h2c = new DmaEngine(Direction.H2C, link, metrics, loop, settings, new ChecksumCorruptor(0), null, BusTap.NONE,
                new FaultInjector(faults, 1));
        DmaEngine c2h = new DmaEngine(Direction.C2H, link, metrics, loop, settings, new ChecksumCorruptor(0), null,
                BusTap.NONE);
        h2c.opposite(c2h);
        c2h.opposite(h2c);
        link.listener(up -> {
            h2c.reset();
            c2h.reset();
        });
        for (Role r : Role.values()) {
            link.attach(r, r == Role.ROOT_COMPLEX ? host : card);
        }
        for (Role r : Role.values()) {
            link.trained(r, new Train(Protocol.VERSION, r, BIG, 0));
        }
        assertInstanceOf(LinkUp.class, drain(card).getLast());
        drain(host);
        t0 = loop.ticker().nanoTime();
    }

    @AfterEach
    void close() {
        host.finishAndReleaseAll();
        card.finishAndReleaseAll();
    }

    private static List<Object> drain(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        for (Object m = ch.readOutbound(); m != null; m = ch.readOutbound()) {
            out.add(m);
        }
        return out;
    }

    private void postAndRing(int n) {
        for (int s = 1; s <= n; s++) {
            h2c.post(Data.of(UnpooledByteBufAllocator.DEFAULT, s, VnetHeader.none(), TestPackets.udp(new byte[BIG - 28])));
        }
        h2c.doorbell(n, link.current().epoch());
    }

    /** Moves virtual time to {@code t0 + at} and runs what is due. */
    private void advanceTo(long at) {
        long now = card.eventLoop().ticker().nanoTime() - t0;
        card.advanceTimeBy(at - now, TimeUnit.NANOSECONDS);
        card.runScheduledPendingTasks();
    }

    private static LinkSettings gen1x1() {
        return LinkSettings.DEFAULT.withProfile(LinkProfile.parse("gen1x1"));
    }

    @Test
    void aPacedStreamReachesTheCardAtTheWireClocksTimesWithAReceiveInterruptEach() {
        start(gen1x1(), FaultSettings.NONE);
        postAndRing(4);
        for (int i = 1; i <= 4; i++) {
            // the doorbell took its TLP on the h2c wire first; each descriptor then follows the one before
            long due = NOTIFICATION + i * BUSY + LATENCY - SLACK;
            advanceTo(due - 1);
            assertEquals(List.of(), drain(card), "descriptor " + i + " before its time");
            advanceTo(due);
            List<Object> got = drain(card);
            assertEquals(2, got.size(), "descriptor " + i + " and its receive interrupt");
            Data d = assertInstanceOf(Data.class, got.get(0));
            assertEquals(i, d.sequence(), "the card's receive-ring sequence");
            assertEquals(new Interrupt(i, 0), got.get(1));
            d.release();
        }
        assertEquals(List.of(), drain(host), "no credit back before the card's RX_DONE");
        h2c.consumed(2, link.current().epoch());
        assertEquals(List.of(new Interrupt(0, 1), new Interrupt(0, 1)), drain(host));
        assertEquals(2, h2c.occupancy());
    }

    /**
     * Behind a switch: this card's own link is unpaced, but the upstream it shares is gen1x1 and another card has just
     * put four descriptors on it. This card's descriptor waits for them, then takes its own turn on the upstream wire.
     */
    @Test
    void aSharedUpstreamHoldsADescriptorUntilTheOtherCardsDescriptorsHaveCrossedIt() {
        start(LinkSettings.DEFAULT, FaultSettings.NONE);
        var upstream = new io.cardnet.link.model.UpstreamLink(LinkProfile.parse("gen1x1"));
        h2c.upstream(upstream);
        for (int i = 0; i < 4; i++) {
            upstream.send(Direction.H2C, t0, BIG, 1); // the other card's
        }
        postAndRing(1);
        long due = 5 * BUSY + LATENCY - SLACK;
        advanceTo(due - 1);
        assertEquals(List.of(), drain(card), "delivered while the upstream still carried the other card's descriptors");
        advanceTo(due);
        List<Object> got = drain(card);
        Data d = assertInstanceOf(Data.class, got.getFirst());
        assertEquals(1, d.sequence());
        d.release();
        // the other direction's upstream wire is its own: c2h is still free
        assertEquals(t0 + BUSY + LATENCY, upstream.send(Direction.C2H, t0, BIG, 1).deliverAt());
    }

    @Test
    void aDroppedDescriptorNeverArrivesAndItsCreditComesBack() {
        start(gen1x1(), FaultSettings.NONE.with(FaultKind.DROP, 1.0));
        postAndRing(3);
        advanceTo(10 * BUSY);
        assertEquals(List.of(), drain(card));
        assertEquals(List.of(new Interrupt(0, 1), new Interrupt(0, 1), new Interrupt(0, 1)), drain(host));
        assertEquals(3.0, metrics.dynamicCounts().get("drop/h2c/fault_drop"));
        assertEquals(0, h2c.occupancy());
    }

    @Test
    void descriptorsBehindALostDoorbellMoveWhenThePollTimerFindsThem() {
        LinkSettings unlimited = LinkSettings.DEFAULT;
        start(unlimited, FaultSettings.NONE.with(FaultKind.LOST_DOORBELL, 1.0));
        postAndRing(2);
        advanceTo(unlimited.pollMicros() * 1000L - 1);
        assertEquals(List.of(), drain(card), "the doorbell was lost");
        advanceTo(unlimited.pollMicros() * 1000L);
        List<Object> got = drain(card);
        assertEquals(4, got.size(), "both descriptors and their interrupts, one poll interval after posting");
        got.forEach(ReferenceCountUtil::release);
        assertEquals(1.0, metrics.dynamicCounts().get("poll/h2c"));
    }

    @Test
    void aStallHoldsTheEngineForItsDuration() {
        start(LinkSettings.DEFAULT, FaultSettings.NONE);
        h2c.stall(5);
        postAndRing(1);
        advanceTo(TimeUnit.MILLISECONDS.toNanos(5) - 1);
        assertEquals(List.of(), drain(card));
        advanceTo(TimeUnit.MILLISECONDS.toNanos(5));
        List<Object> got = drain(card);
        assertEquals(2, got.size());
        got.forEach(ReferenceCountUtil::release);
    }
}
