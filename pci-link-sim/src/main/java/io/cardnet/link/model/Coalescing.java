package io.cardnet.link.model;

/**
 * Interrupt coalescing for one direction, like {@code ethtool -C}: raise an interrupt once {@code maxFrames}
 * descriptors are waiting, or {@code maxMicros} after the first of them, whichever comes first. Adaptive mode
 * moves the frame threshold between 1 and {@code maxFrames} with the rate: one interrupt per descriptor when
 * traffic is sparse (low latency), batches when it is heavy.
 */
public record Coalescing(int maxFrames, int maxMicros, boolean adaptive) {
    /** One interrupt per descriptor, at once. */
    public static final Coalescing OFF = new Coalescing(1, 0, false);
    public static final int MAX_FRAMES = 4096;
    public static final int MAX_MICROS = 1_000_000;

    public Coalescing {
        if (maxFrames < 1 || maxFrames > MAX_FRAMES) {
            throw new IllegalArgumentException("coalesce frames must be 1.." + MAX_FRAMES + " (1 = an interrupt per descriptor), was "
                    + maxFrames);
        }
        if (maxMicros < 0 || maxMicros > MAX_MICROS) {
            throw new IllegalArgumentException("coalesce microseconds must be 0.." + MAX_MICROS + ", was " + maxMicros);
        }
    }

    public boolean off() {
        return maxFrames == 1 && !adaptive;
    }
}
