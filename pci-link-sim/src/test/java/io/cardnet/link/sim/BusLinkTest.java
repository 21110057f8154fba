package io.cardnet.link.sim;

import io.cardnet.link.model.Coalescing;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The link's behaviour, run once per bus transport: training, descriptors both ways (including a full
 * 65535-byte packet), an end leaving and the other end told, retraining with a new epoch.
 */
class BusLinkTest {

    private record Ports(BusAddress host, BusAddress card, Path dir, Path dma, LinkSettings settings, Duration busyPoll) {
        Ports(BusAddress host, BusAddress card, Path dir, Path dma, LinkSettings settings) {
            this(host, card, dir, dma, settings, Duration.ZERO);
        }
    }

    private static Ports ports(String transport) throws IOException {
        Path dir = Files.createTempDirectory("cardnet-link");
        return switch (transport) {
            case "unix" -> new Ports(new BusAddress.Unix(dir.resolve("host.sock")),
                    new BusAddress.Unix(dir.resolve("card.sock")), dir, null, LinkSettings.DEFAULT);
            // descriptors in shared rings, the simulator off the per-packet path
            case "unix+direct-rings" -> new Ports(new BusAddress.Unix(dir.resolve("host.sock")),
                    new BusAddress.Unix(dir.resolve("card.sock")), dir, Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-link"),
                    LinkSettings.DEFAULT);
            // the same with both ends polling adaptively: no descriptor may wait for a bell the poller disarmed
            case "unix+direct-rings+busy-poll" -> new Ports(new BusAddress.Unix(dir.resolve("host.sock")),
                    new BusAddress.Unix(dir.resolve("card.sock")), dir, Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-link"),
                    LinkSettings.DEFAULT, Duration.ofMillis(1));
            // packets in shared memory, descriptors through the simulator: coalescing is per-descriptor work
            case "unix+shared-memory" -> new Ports(new BusAddress.Unix(dir.resolve("host.sock")),
                    new BusAddress.Unix(dir.resolve("card.sock")), dir, Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-link"),
                    LinkSettings.DEFAULT.withCoalescing(Direction.H2C, new Coalescing(4, 50, false)));
            default -> new Ports(new BusAddress.Tcp("127.0.0.1", freePort()), new BusAddress.Tcp("127.0.0.1", freePort()), dir,
                    null, LinkSettings.DEFAULT);
        };
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"unix", "unix+shared-memory", "unix+direct-rings", "unix+direct-rings+busy-poll", "tcp"})
    void trainsCarriesDescriptorsBothWaysAndRetrainsAfterAnEndLeaves(String transport) throws Exception {
        Ports p = ports(transport);
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(p.host(), p.card(), null,
                new Liveness(Duration.ofMillis(100), 5), 0, p.dma()), p.settings(), new SimpleMeterRegistry()).start();
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, p.host(), p.dma(), 1, p.busyPoll())) {
            LinkUp first;
            try (TestEnd card = new TestEnd(Role.ENDPOINT, p.card(), p.dma(), 1, p.busyPoll())) {
                first = host.next(LinkUp.class);
                assertEquals(first, card.next(LinkUp.class));
                host.awaitUp();
                card.awaitUp();
                assertEquals(p.dma() != null, host.port.sharedMemory(), "shared memory negotiated as configured");
                assertEquals(p.dma() != null, Features.has(first.features(), Features.SHARED_MEMORY));
                boolean direct = transport.contains("direct-rings");
                assertEquals(direct, Features.has(first.features(), Features.DIRECT_RING), "direct rings negotiated");
                assertEquals(direct, host.port.direct());

                byte[] big = TestPackets.udp(new byte[65535 - 28]);
                assertEquals(65535, big.length);
                assertTrue(host.send(big));
                assertArrayEquals(big, card.next(byte[].class));

                byte[] reply = TestPackets.tcp("reply".getBytes());
                assertTrue(card.send(reply));
                assertArrayEquals(reply, host.next(byte[].class));

                // More than a ring's worth of descriptors: credits must come back as the consumer frees them.
                int depth = first.ringDepth();
                for (int i = 0; i < depth * 3; i++) {
                    byte[] pkt = TestPackets.udp(java.nio.ByteBuffer.allocate(4).putInt(i).array());
                    assertTrue(host.send(pkt), "descriptor " + i + " was not posted");
                    assertArrayEquals(pkt, card.next(byte[].class), "descriptor " + i);
                    if (i % 64 == 63) {
                        // a pause longer than any poll window: the consumer must have armed its bell and be woken
                        Thread.sleep(3);
                    }
                }
                LinkStatus s = sim.status();
                assertEquals("UP", s.state());
                assertEquals(1 + 3L * depth, s.traffic().get("h2c").frames());
                assertEquals(1, s.traffic().get("c2h").frames());
            }
            String down = host.next(String.class);
            assertTrue(down.contains("endpoint (card) went away"), down);
            try (TestEnd again = new TestEnd(Role.ENDPOINT, p.card())) {
                LinkUp second = again.next(LinkUp.class);
                assertEquals(first.epoch() + 1, second.epoch(), "a retrain starts a new epoch");
                assertEquals(second, host.next(LinkUp.class));
            }
        } finally {
            if (p.dma() != null) {
                assertTrue(!Files.exists(p.dma()), "the simulator left its DMA regions behind");
            }
            Files.deleteIfExists(p.dir().resolve("host.sock"));
            Files.deleteIfExists(p.dir().resolve("card.sock"));
            Files.delete(p.dir());
        }
    }
}
