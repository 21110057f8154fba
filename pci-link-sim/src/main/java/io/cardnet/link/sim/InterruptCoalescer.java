package io.cardnet.link.sim;

import io.cardnet.link.model.Coalescing;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Decides when an interrupt goes out for descriptors that are waiting: at {@code maxFrames}, or
 * {@code maxMicros} after the first one, whichever is first. In adaptive mode the frame threshold is the
 * number of descriptors seen in the previous window of {@code maxMicros}: sparse traffic gets an interrupt
 * per descriptor, bulk traffic gets batches. Runs on the bus thread.
 */
final class InterruptCoalescer {
    private final EventLoop loop;
    private final IntConsumer fire;
    private Coalescing settings;
    private int pending;
    private ScheduledFuture<?> timer;
    private long windowStart;
    private int windowFrames;
    private int lastWindowFrames;

    /** {@code fire} receives how many descriptors the interrupt covers. */
    InterruptCoalescer(EventLoop loop, Coalescing settings, IntConsumer fire) {
        this.loop = loop;
        this.settings = settings;
        this.fire = fire;
    }

    void settings(Coalescing next) {
        this.settings = next;
        fireNow();
    }

    void add(int frames) {
        pending += frames;
        countWindow(frames);
        if (pending >= threshold() || settings.maxMicros() == 0) {
            fireNow();
        } else if (timer == null) {
            timer = loop.schedule(this::fireNow, settings.maxMicros(), TimeUnit.MICROSECONDS);
        }
    }

    private int threshold() {
        if (!settings.adaptive()) {
            return settings.maxFrames();
        }
        return Math.max(1, Math.min(settings.maxFrames(), lastWindowFrames));
    }

    private void countWindow(int frames) {
        long now = loop.ticker().nanoTime();
        long window = Math.max(1, settings.maxMicros()) * 1000L;
        if (now - windowStart > window) {
            lastWindowFrames = now - windowStart > 2 * window ? 0 : windowFrames;
            windowStart = now;
            windowFrames = 0;
        }
        windowFrames += frames;
    }

    void fireNow() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (pending > 0) {
            int n = pending;
            pending = 0;
            fire.accept(n);
        }
    }

    /** Forgets what was waiting (the link went down). */
    void reset() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        pending = 0;
    }
}
