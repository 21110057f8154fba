package io.cardnet.link.port;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;

import java.time.Duration;
import java.util.Objects;

/**
 * How an end attaches to the bus.
 *
 * @param role     which end this is
 * @param address  the simulator's port for this end
 * @param features feature bits offered in training ({@link io.cardnet.link.protocol.Features})
 * @param liveness heartbeat contract with the simulator
 * @param retry    pause between attempts to reach or retrain the bus
 * @param dmaDir   where the simulator keeps its shared-memory DMA regions; null to send packets in frames.
 *                 Shared memory needs a Unix-socket bus (same machine); it is offered in training only then.
 * @param queues   queue pairs this end runs, each with a bus thread of its own (1..{@link #MAX_QUEUES}); more
 *                 than one only moves packets on the direct rings
 * @param busyPoll the longest adaptive-polling window on the direct rings ({@link PollWindow}); zero sleeps as soon
 *                 as there is no work (the default: on 2 cores polling costs more than it saves)
 */
public record BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry,
                            java.nio.file.Path dmaDir, int queues, Duration busyPoll) {
    public static final int MAX_QUEUES = 8;
    /** Longer windows only burn a core: a round trip through the card is well under this when it is awake. */
    public static final Duration MAX_BUSY_POLL = Duration.ofMillis(1);

    public BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry,
                         java.nio.file.Path dmaDir, int queues) {
        this(role, address, features, liveness, retry, dmaDir, queues, Duration.ZERO);
    }

    public BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry,
                         java.nio.file.Path dmaDir) {
        this(role, address, features, liveness, retry, dmaDir, 1);
    }

    public BusPortConfig {
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ", was " + queues);
        }
        Objects.requireNonNull(role, "role");
        if (dmaDir != null && address instanceof BusAddress.Unix) {
            features |= io.cardnet.link.protocol.Features.SHARED_MEMORY;
        }
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(liveness, "liveness");
        Objects.requireNonNull(retry, "retry");
        Objects.requireNonNull(busyPoll, "busyPoll");
        if (busyPoll.isNegative() || busyPoll.compareTo(MAX_BUSY_POLL) > 0) {
            throw new IllegalArgumentException("busy poll must be 0.." + MAX_BUSY_POLL.toNanos() / 1000
                    + " µs, was " + busyPoll.toNanos() / 1000 + " µs");
        }
    }

    public BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry) {
        this(role, address, features, liveness, retry, null);
    }
}
