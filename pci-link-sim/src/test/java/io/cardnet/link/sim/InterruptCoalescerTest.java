package io.cardnet.link.sim;

import io.cardnet.link.model.Coalescing;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Coalescing like {@code ethtool -C}, on an embedded event loop's virtual time. */
class InterruptCoalescerTest {
    private final List<Integer> fired = new ArrayList<>();
    private EmbeddedChannel ch;

    @BeforeEach
    void frozenTime() {
        ch = new EmbeddedChannel();
        ch.freezeTime();
    }

    @AfterEach
    void close() {
        ch.finishAndReleaseAll();
    }

    private InterruptCoalescer coalescer(Coalescing c) {
        return new InterruptCoalescer(ch.eventLoop(), c, fired::add);
    }

    private void advanceMicros(long micros) {
        ch.advanceTimeBy(micros, TimeUnit.MICROSECONDS);
        ch.runScheduledPendingTasks();
    }

    @Test
    void offRaisesAnInterruptPerDescriptorAtOnce() {
        InterruptCoalescer c = coalescer(Coalescing.OFF);
        c.add(1);
        c.add(1);
        c.add(3);
        assertEquals(List.of(1, 1, 3), fired);
    }

    @Test
    void theFrameThresholdFiresAtOnce() {
        InterruptCoalescer c = coalescer(new Coalescing(4, 1000, false));
        for (int i = 0; i < 3; i++) {
            c.add(1);
        }
        assertEquals(List.of(), fired);
        c.add(1);
        assertEquals(List.of(4), fired);
        advanceMicros(2000);
        assertEquals(List.of(4), fired, "its timer was cancelled");
    }

    @Test
    void theMicrosecondTimerFiresAtItsVirtualTime() {
        InterruptCoalescer c = coalescer(new Coalescing(32, 100, false));
        c.add(1);
        advanceMicros(40);
        c.add(2);
        advanceMicros(59);
        assertEquals(List.of(), fired, "99 µs after the first descriptor");
        advanceMicros(1);
        assertEquals(List.of(3), fired, "100 µs after the first descriptor, not after the last");
        c.add(1);
        advanceMicros(99);
        assertEquals(List.of(3), fired);
        advanceMicros(1);
        assertEquals(List.of(3, 1), fired);
    }

    @Test
    void adaptiveModeBatchesBulkAndNotSparseTraffic() {
        InterruptCoalescer c = coalescer(new Coalescing(16, 100, true));
        // sparse: one descriptor every 250 µs; each window before it was empty, so each fires alone at once
        for (int i = 0; i < 3; i++) {
            advanceMicros(250);
            c.add(1);
            assertEquals(i + 1, fired.size());
        }
        fired.clear();
        // bulk: 10 in one window, then the next window's threshold is 10
        advanceMicros(250);
        for (int i = 0; i < 10; i++) {
            c.add(1);
        }
        advanceMicros(101);
        fired.clear();
        for (int i = 0; i < 9; i++) {
            c.add(1);
        }
        assertEquals(List.of(), fired, "below the threshold the previous window set");
        c.add(1);
        assertEquals(List.of(10), fired);
    }

    @Test
    void newSettingsFireWhatWaitsAndResetForgetsIt() {
        InterruptCoalescer c = coalescer(new Coalescing(32, 1000, false));
        c.add(5);
        c.settings(Coalescing.OFF);
        assertEquals(List.of(5), fired);
        c.settings(new Coalescing(32, 1000, false));
        c.add(2);
        c.reset();
        advanceMicros(2000);
        assertEquals(List.of(5), fired);
    }
}
