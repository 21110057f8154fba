package io.cardnet.link.sim;

import io.cardnet.link.hostile.RawFrames;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.Train;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A retrain waits for both ends: after a flap the link comes up again only once each end that had it up has trained
 * again (it does so when all its queues let go of the old epoch's slots), however long one of them takes; a real
 * end ({@code BusPort}) does that by itself.
 */
class RetrainHandshakeTest {

    @Test
    void afterAFlapTheLinkWaitsForTheEndThatHasNotTrainedAgain() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-handshake");
        BusAddress hostPort = new BusAddress.Unix(dir.resolve("host.sock"));
        Path cardSocket = dir.resolve("card.sock");
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, new BusAddress.Unix(cardSocket), null,
                new Liveness(Duration.ofMillis(100), 5), 0), new SimpleMeterRegistry()).start();
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, hostPort)) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(cardSocket));
            try (RawFrames card = new RawFrames(ch)) {
                Train train = new Train(Protocol.VERSION, Role.ENDPOINT, Data.MAX_PACKET, Features.CSUM_UNNECESSARY);
                card.send(train);
                card.heartbeat();
                LinkUp first = card.next(LinkUp.class);
                assertNotNull(first, "the link came up: " + card.received);
                assertEquals(first, host.next(LinkUp.class));

                sim.inject(FaultKind.FLAP, Direction.H2C, 0);
                assertNotNull(card.next(LinkDown.class), "the card heard the flap: " + card.received);
                assertTrue(host.next(String.class).startsWith("down"));
                // the host trains again by itself; the card, which has not, holds the link down as long as it likes
                Thread.sleep(300);
                assertEquals("TRAINING", sim.status().state(), "the link came up before the card let go of epoch "
                        + first.epoch());
                assertEquals(first.epoch(), sim.status().epoch());

                card.send(train);
                LinkUp second = card.next(LinkUp.class);
                assertNotNull(second, "the link came up once the card trained again: " + card.received);
                assertEquals(first.epoch() + 1, second.epoch());
                assertEquals(second, host.next(LinkUp.class));
                assertEquals("UP", sim.status().state());
            }
        } finally {
            Files.deleteIfExists(dir.resolve("host.sock"));
            Files.deleteIfExists(cardSocket);
            Files.deleteIfExists(dir);
        }
    }
}
