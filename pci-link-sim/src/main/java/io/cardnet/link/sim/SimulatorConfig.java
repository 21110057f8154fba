package io.cardnet.link.sim;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything the simulator is started with, in one place.
 *
 * @param hostPort            where the root complex (host-bridge) attaches
 * @param cardPort            where the endpoint (card-node) attaches
 * @param controlSocket       Unix socket for {@code cardnet lab status} and link control; null for none
 * @param heartbeat           the liveness contract both ends are held to
 * @param corruptTcpChecksumToHostEvery test switch: flip the TCP checksum of every Nth TCP packet toward
 *                            the host (0 = off); shows what a checksum-unnecessary link does with it
 * @param dmaDir              where to create the shared-memory DMA regions (a tmpfs directory); null for none,
 *                            and then packets always travel inside frames
 * @param queues              the most queue pairs a link may run (each with its own direct rings and doorbells);
 *                            the link runs the smallest of this and both ends' offers
 */
public record SimulatorConfig(BusAddress hostPort, BusAddress cardPort, Path controlSocket, Liveness heartbeat,
                              int corruptTcpChecksumToHostEvery, Path dmaDir, int queues) {
    /** As many queue pairs as virtio-net multiqueue setups commonly run per card; a TUN allows far more. */
    public static final int MAX_QUEUES = 8;

    public SimulatorConfig(BusAddress hostPort, BusAddress cardPort, Path controlSocket, Liveness heartbeat,
                           int corruptTcpChecksumToHostEvery) {
        this(hostPort, cardPort, controlSocket, heartbeat, corruptTcpChecksumToHostEvery, null);
    }

    public SimulatorConfig(BusAddress hostPort, BusAddress cardPort, Path controlSocket, Liveness heartbeat,
                           int corruptTcpChecksumToHostEvery, Path dmaDir) {
        this(hostPort, cardPort, controlSocket, heartbeat, corruptTcpChecksumToHostEvery, dmaDir, MAX_QUEUES);
    }

    public SimulatorConfig {
        Objects.requireNonNull(hostPort, "hostPort");
        Objects.requireNonNull(cardPort, "cardPort");
        Objects.requireNonNull(heartbeat, "heartbeat");
        for (BusAddress a : new BusAddress[]{hostPort, cardPort}) {
            if (a instanceof BusAddress.VirtioPort) {
                throw new IllegalArgumentException("the simulator listens on unix:PATH or tcp:HOST:PORT, not on " + a
                        + " (a card VM's end uses that; QEMU connects the port to the simulator's card socket)");
            }
        }
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ", was " + queues);
        }
        if (corruptTcpChecksumToHostEvery < 0) {
            throw new IllegalArgumentException("corrupt-every must be 0 (off) or a positive N, was "
                    + corruptTcpChecksumToHostEvery);
        }
    }
}
