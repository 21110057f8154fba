package io.cardnet.link.port;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The adaptive-polling governor on explicit times: grows with dense traffic, falls to nothing with sparse. */
class PollWindowTest {
    private static final long US = 1_000;

    @Test
    void offNeverPolls() {
        PollWindow w = new PollWindow(0);
        for (int i = 0; i < 10; i++) {
            w.woke(5 * US);
        }
        assertEquals(0, w.windowNanos());
        assertFalse(w.polling(0, 1));
        assertEquals(0, w.grown());
    }

    @Test
    void shortSleepsGrowTheWindowUpToTheLimitAndNoFurther() {
        PollWindow w = new PollWindow(200 * US);
        assertFalse(w.polling(0, 1), "starts asleep: no traffic seen yet");
        w.woke(30 * US);
        assertEquals(PollWindow.GROW_START_NANOS, w.windowNanos());
        w.woke(30 * US);
        w.woke(30 * US);
        w.woke(30 * US);
        w.woke(30 * US);
        assertEquals(160 * US, w.windowNanos());
        w.woke(30 * US);
        assertEquals(200 * US, w.windowNanos(), "capped at the limit");
        w.woke(30 * US);
        assertEquals(200 * US, w.windowNanos());
        assertEquals(6, w.grown(), "a window at its limit does not count as growing");
        assertTrue(w.polling(1_000 * US, 1_199 * US));
        assertFalse(w.polling(1_000 * US, 1_200 * US), "the window ends 200 µs after the last work");
    }

    @Test
    void longSleepsShrinkItToNothing() {
        PollWindow w = new PollWindow(200 * US);
        for (int i = 0; i < 8; i++) {
            w.woke(1);
        }
        assertEquals(200 * US, w.windowNanos());
        // pings 10 ms apart: every spin ran out and the thread slept long
        w.woke(10_000 * US);
        assertEquals(100 * US, w.windowNanos());
        w.woke(10_000 * US);
        w.woke(10_000 * US);
        w.woke(10_000 * US);
        assertEquals(12_500, w.windowNanos());
        w.woke(10_000 * US);
        assertEquals(0, w.windowNanos(), "below the first step it stops polling altogether");
        w.woke(10_000 * US);
        assertEquals(5, w.shrunk(), "a window already at 0 does not shrink further");
        assertFalse(w.polling(0, 1));
    }

    @Test
    void refusesANegativeLimit() {
        assertThrows(IllegalArgumentException.class, () -> new PollWindow(-1));
    }
}
