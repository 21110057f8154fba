package io.cardnet.link.protocol;

import java.time.Duration;

/**
 * The heartbeat contract both ends and the simulator are held to: send a heartbeat after
 * {@code interval} without sending anything; declare the other side gone after {@code interval × misses}
 * without hearing anything (the shape of a firmware heartbeat with a miss count).
 */
public record Liveness(Duration interval, int misses) {
    public static final Liveness DEFAULT = new Liveness(Duration.ofMillis(100), 5);

    public Liveness {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("heartbeat interval must be positive, was " + interval);
        }
        if (misses < 1) {
            throw new IllegalArgumentException("heartbeat misses must be at least 1, was " + misses);
        }
    }

    public Duration deadline() {
        return interval.multipliedBy(misses);
    }
}
