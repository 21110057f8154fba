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
 */
public record BusPortConfig(Role role, BusAddress address, long features, Liveness liveness, Duration retry) {
    public BusPortConfig {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(liveness, "liveness");
        Objects.requireNonNull(retry, "retry");
    }
}
