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
 */
public record BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry,
                            java.nio.file.Path dmaDir, int queues) {
    public static final int MAX_QUEUES = 8;

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
    }

    public BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry) {
        this(role, address, features, liveness, retry, null);
    }
}
