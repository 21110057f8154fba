package io.cardnet.link.port;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;

import java.time.Duration;
import java.util.Objects;

/**
 * One end of the link as a network device: the TUN's name and address, and how it reaches the bus.
 *
 * @param role    root complex (host-bridge, toe0) or endpoint (card-node, host0)
 * @param device  TUN name, at most 15 characters
 * @param address the device's IPv4 address and prefix
 * @param mtu     the device MTU; 65535 is the design's fixed 64K MTU
 * @param bus     the simulator port for this end
 * @param csum    checksum mode this end offers in training
 * @param liveness heartbeat contract with the simulator
 * @param dmaDir   the simulator's shared-memory DMA regions; null sends packets inside frames
 * @param offload  let the kernel hand over partial checksums and TSO super-packets (the design); false models a
 *                 plain NIC: the kernel checksums and segments in software before the packet reaches the TUN
 * @param queues   queue pairs: the TUN's queues ({@code IFF_MULTI_QUEUE} above 1), each pumped by a bus thread of
 *                 its own; the link runs as many as both ends and the simulator allow on the direct rings, else 1
 * @param busyPoll the longest adaptive-polling window on the direct rings; zero (the default) never polls
 */
public record TunEndConfig(Role role, String device, EndpointAddress address, int mtu, BusAddress bus,
                           ChecksumMode csum, Liveness liveness, java.nio.file.Path dmaDir, boolean offload, int queues,
                           Duration busyPoll) {
    public static final int MTU_64K = 65535;

    public TunEndConfig(Role role, String device, EndpointAddress address, int mtu, BusAddress bus,
                        ChecksumMode csum, Liveness liveness, java.nio.file.Path dmaDir, boolean offload, int queues) {
        this(role, device, address, mtu, bus, csum, liveness, dmaDir, offload, queues, Duration.ZERO);
    }

    public TunEndConfig(Role role, String device, EndpointAddress address, int mtu, BusAddress bus,
                        ChecksumMode csum, Liveness liveness, java.nio.file.Path dmaDir, boolean offload) {
        this(role, device, address, mtu, bus, csum, liveness, dmaDir, offload, 1);
    }

    public TunEndConfig {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(bus, "bus");
        Objects.requireNonNull(csum, "csum");
        Objects.requireNonNull(liveness, "liveness");
        Objects.requireNonNull(busyPoll, "busyPoll");
        if (device == null || device.isEmpty() || device.length() > 15 || !device.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("device name '" + device
                    + "' must be 1..15 characters of letters, digits, '_', '.', '-'");
        }
        if (mtu < 576 || mtu > MTU_64K) {
            throw new IllegalArgumentException("mtu must be 576..65535, was " + mtu);
        }
    }

    /** The same end reaching the bus at {@code other}. */
    public TunEndConfig withBus(BusAddress other) {
        return new TunEndConfig(role, device, address, mtu, other, csum, liveness, dmaDir, offload, queues, busyPoll);
    }

    BusPortConfig busPortConfig() {
        return new BusPortConfig(role, bus, csum.features(), liveness, Duration.ofMillis(100), dmaDir, queues, busyPoll);
    }
}
