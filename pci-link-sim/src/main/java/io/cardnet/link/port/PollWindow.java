package io.cardnet.link.port;

/**
 * How long a bus thread keeps looking for work (its receive ring and its TUN) before it arms its doorbell and
 * sleeps: adaptive polling, governed the way Linux's cpuidle-haltpoll governs a guest's idle poll.
 *
 * <p>Why adaptive: on a 2-core machine a thread that spins holds a core that the process it waits for may need
 * (ping, the card's kernel, the echo service), so a fixed window makes sparse traffic slower, not faster
 * (measured in BENCHMARKS.md). The window therefore grows only while wake-ups keep coming soon after the thread
 * went to sleep (dense traffic, where a spin would have caught the work), and shrinks when sleeps are long
 * (sparse traffic, where spinning only burns a core):
 * <ul>
 *   <li>a sleep shorter than {@link #limitNanos()} that the window did not cover: grow (double, from
 *       {@link #GROW_START_NANOS});</li>
 *   <li>a sleep longer than the limit: shrink (halve; below the start it goes to 0, no polling at all).</li>
 * </ul>
 * A limit of 0 turns polling off. Pure arithmetic on times the caller passes, so it runs on virtual time in tests.
 */
public final class PollWindow {
    /** The first window after polling was off: long enough to cover one TUN write and the kernel's reply. */
    static final long GROW_START_NANOS = 10_000;

    private final long limitNanos;
    private long windowNanos;
    private long grown;
    private long shrunk;

    /** @param limitNanos the longest window, and the sleep beyond which polling shrinks; 0 never polls */
    public PollWindow(long limitNanos) {
        if (limitNanos < 0) {
            throw new IllegalArgumentException("poll limit must be >= 0, was " + limitNanos);
        }
        this.limitNanos = limitNanos;
    }

    public long limitNanos() {
        return limitNanos;
    }

    /** How long to keep looking after the last work before sleeping; 0: sleep at once. */
    public long windowNanos() {
        return windowNanos;
    }

    /** True while {@code now} is within the window that started with the last work at {@code lastWork}. */
    public boolean polling(long lastWork, long now) {
        return windowNanos > 0 && now - lastWork < windowNanos;
    }

    /** The thread slept for {@code sleptNanos} before work woke it: adjust the window for next time. */
    public void woke(long sleptNanos) {
        if (limitNanos == 0) {
            return;
        }
        if (sleptNanos <= limitNanos) {
            if (windowNanos < limitNanos) {
                windowNanos = Math.min(limitNanos, windowNanos == 0 ? GROW_START_NANOS : windowNanos * 2);
                grown++;
            }
        } else if (windowNanos > 0) {
            windowNanos = windowNanos / 2 < GROW_START_NANOS ? 0 : windowNanos / 2;
            shrunk++;
        }
    }

    /** Times the window grew (dense traffic) and shrank (sparse traffic): what the governor decided. */
    public long grown() {
        return grown;
    }

    public long shrunk() {
        return shrunk;
    }
}
