package io.cardnet.link.model;

import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The virtual wire against the model's own figures (docs/link-model.md), on an event loop's virtual time: a
 * stream of descriptors is delivered exactly when TLP bytes, lane rate and latency say, not a nanosecond
 * earlier or later.
 */
class WireClockTest {
    private static final int BIG = 65535;
    /** A 65535-byte packet at MPS 256: 257 TLPs of 28 bytes' overhead each (Gen1/2 and Gen3+ alike) + the descriptor. */
    private static final long BIG_WIRE_BYTES = 65535 + 257 * 28 + 16;
    private static final long LATENCY = LinkProfile.DEFAULT_LATENCY.toNanos();

    /**
     * Sends {@code n} 64 KiB descriptors at once, schedules each delivery on an event loop at the time the wire
     * gives, and walks virtual time up to each expected time: nothing arrives a nanosecond before it, the next
     * descriptor arrives exactly at it.
     */
    private static void streamArrivesOnVirtualTime(WireClock wire, int n, long busy) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        EventLoop loop = ch.eventLoop();
        long t0 = loop.ticker().nanoTime();
        List<Long> arrivals = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long at = wire.send(t0, BIG).deliverAt();
            loop.schedule(() -> arrivals.add(loop.ticker().nanoTime() - t0), at - t0, TimeUnit.NANOSECONDS);
        }
        long elapsed = 0;
        for (int i = 0; i < n; i++) {
            long due = (i + 1) * busy + LATENCY;
            ch.advanceTimeBy(due - 1 - elapsed, TimeUnit.NANOSECONDS);
            ch.runScheduledPendingTasks();
            assertEquals(i, arrivals.size(), "descriptor " + i + " arrived before " + due + " ns");
            ch.advanceTimeBy(1, TimeUnit.NANOSECONDS);
            ch.runScheduledPendingTasks();
            elapsed = due;
            assertEquals(List.of(due), arrivals.subList(i, arrivals.size()), "descriptor " + i);
        }
        ch.finishAndReleaseAll();
    }

    @Test
    void gen1x1DeliversEach64KiBDescriptorAfterItsTlpsAtTwoGigabitsPerSecond() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        assertEquals(BIG_WIRE_BYTES, wire.model().wireBytes(BIG));
        // 2.0 Gb/s after 8b/10b: 4 ns a byte
        streamArrivesOnVirtualTime(wire, 16, BIG_WIRE_BYTES * 4);
    }

    @Test
    void gen3x2PacesExactlyAtTheModelsRate() {
        // 2 lanes × 8 GT/s × 128/130: 130/256 ns a byte
        long busy = Math.round(BIG_WIRE_BYTES * 130 / 256.0);
        streamArrivesOnVirtualTime(new WireClock(LinkProfile.parse("gen3x2")), 16, busy);

        WireClock wire = new WireClock(LinkProfile.parse("gen3x2"));
        long last = 0;
        for (int i = 1; i <= 1000; i++) {
            WireClock.Transfer t = wire.send(0, BIG);
            assertEquals(busy, t.busyNanos());
            assertEquals(BIG_WIRE_BYTES, t.wireBytes());
            assertEquals(257, t.tlps());
            assertEquals(i * busy + LATENCY, t.deliverAt());
            last = t.deliverAt() - LATENCY;
        }
        double rate = 1000.0 * BIG / (last / 1e9);
        assertEquals(wire.model().packetBytesPerSecond(BIG, Double.POSITIVE_INFINITY), rate, rate * 1e-5,
                "the stream's rate is TlpModel's prediction");
    }

    @Test
    void anIdleWireStartsAtNowAndLatencyDoesNotOccupyIt() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1").withLatency(Duration.ofNanos(50_000)));
        long busy = BIG_WIRE_BYTES * 4;
        long now = 5_000_000_000L;
        assertEquals(now + busy + 50_000, wire.send(now, BIG).deliverAt());
        // the next descriptor follows the first's last byte, not its arrival
        assertEquals(now + 2 * busy + 50_000, wire.send(now, BIG).deliverAt());
        // long after, the wire is idle again: the latency is all that is added to the wire time
        long later = now + 10 * busy;
        assertEquals(later + busy + 50_000, wire.send(later, BIG).deliverAt());
    }

    @Test
    void aNotificationTakesItsTlpsTimeOnTheWire() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        long busy = BIG_WIRE_BYTES * 4;
        wire.notification(0);
        long doorbell = (4 + 28) * 4;                // a 4-byte memory write plus one TLP's overhead
        assertEquals(doorbell, wire.wireFree());
        assertEquals(doorbell + busy + LATENCY, wire.send(0, BIG).deliverAt());
    }

    @Test
    void aReplayedDescriptorCostsTheWireTwice() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        WireClock.Transfer t = wire.send(0, BIG, 2);
        assertEquals(2 * BIG_WIRE_BYTES, t.wireBytes());
        assertEquals(2 * BIG_WIRE_BYTES * 4, t.busyNanos());
        assertEquals(257, t.tlps(), "TLPs of one transmission");
    }

    @Test
    void aStallHoldsTheWireUntilItEnds() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        long now = 1_000_000;
        assertFalse(wire.stalled(now));
        wire.stall(now, TimeUnit.MILLISECONDS.toNanos(500));
        assertTrue(wire.stalled(now + 499_999_999));
        assertFalse(wire.stalled(now + 500_000_000));
        wire.reset();
        assertTrue(wire.stalled(now + 1), "a retrain does not end a stall");
    }

    @Test
    void unlimitedDeliversAtOnceAndNotificationsCostNothing() {
        WireClock wire = new WireClock(LinkProfile.UNLIMITED);
        wire.notification(7);
        WireClock.Transfer t = wire.send(7, BIG);
        assertEquals(7, t.deliverAt());
        assertEquals(0, t.busyNanos());
        assertEquals(BIG, t.wireBytes());
    }

    @Test
    void aNewProfileAppliesFromTheNextDescriptor() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        long first = wire.send(0, BIG).deliverAt() - LATENCY;
        wire.profile(LinkProfile.parse("gen2x1"));
        long busy2 = BIG_WIRE_BYTES * 2;             // 4.0 Gb/s: 2 ns a byte
        assertEquals(first + busy2 + LATENCY, wire.send(0, BIG).deliverAt());
    }

    @Test
    void timeMayHaveAnyOrigin() {
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        long now = -42_000_000_000L;                 // a ticker's nanoTime may be negative
        assertEquals(now + BIG_WIRE_BYTES * 4 + LATENCY, wire.send(now, BIG).deliverAt());
    }
}
