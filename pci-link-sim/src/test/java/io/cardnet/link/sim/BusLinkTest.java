package io.cardnet.link.sim;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
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

    private record Ports(BusAddress host, BusAddress card, Path dir) {
    }

    private static Ports ports(String transport) throws IOException {
        Path dir = Files.createTempDirectory("cardnet-link");
        if (transport.equals("unix")) {
            return new Ports(new BusAddress.Unix(dir.resolve("host.sock")), new BusAddress.Unix(dir.resolve("card.sock")), dir);
        }
        return new Ports(new BusAddress.Tcp("127.0.0.1", freePort()), new BusAddress.Tcp("127.0.0.1", freePort()), dir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"unix", "tcp"})
    void trainsCarriesDescriptorsBothWaysAndRetrainsAfterAnEndLeaves(String transport) throws Exception {
        Ports p = ports(transport);
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(p.host(), p.card(), null,
                new Liveness(Duration.ofMillis(100), 5), 0), new SimpleMeterRegistry()).start();
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, p.host())) {
            LinkUp first;
            try (TestEnd card = new TestEnd(Role.ENDPOINT, p.card())) {
                first = host.next(LinkUp.class);
                assertEquals(first, card.next(LinkUp.class));
                host.awaitUp();
                card.awaitUp();

                byte[] big = TestPackets.udp(new byte[65535 - 28]);
                assertEquals(65535, big.length);
                assertTrue(host.port.write(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), big)));
                host.port.flush();
                assertArrayEquals(big, card.next(byte[].class));

                byte[] reply = TestPackets.tcp("reply".getBytes());
                assertTrue(card.port.write(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), reply)));
                card.port.flush();
                assertArrayEquals(reply, host.next(byte[].class));
                LinkStatus s = sim.status();
                assertEquals("UP", s.state());
                assertEquals(1, s.traffic().get("h2c").frames());
                assertEquals(65535, s.traffic().get("h2c").bytes());
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
            Files.deleteIfExists(p.dir().resolve("host.sock"));
            Files.deleteIfExists(p.dir().resolve("card.sock"));
            Files.delete(p.dir());
        }
    }
}
