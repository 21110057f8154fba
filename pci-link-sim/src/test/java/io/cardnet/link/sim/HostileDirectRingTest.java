package io.cardnet.link.sim;

import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.netdev.Bell;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A card that writes garbage into its direct ring (lying lengths, descriptors of another epoch, a tail far beyond
 * the ring) and rings the host's bell: the host refuses and counts each one, delivers nothing, keeps running, and
 * carries packets again once a well-behaved card trains.
 */
class HostileDirectRingTest {

    @Test
    void theHostRefusesAndCountsGarbageAndWorksWithTheNextCard() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-hostile");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-hostile");
        BusAddress hostPort = new BusAddress.Unix(dir.resolve("host.sock"));
        BusAddress cardPort = new BusAddress.Unix(dir.resolve("card.sock"));
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, cardPort, null,
                new Liveness(Duration.ofMillis(100), 5), 0, dma), new SimpleMeterRegistry()).start();
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, hostPort, dma)) {
            try (TestEnd card = new TestEnd(Role.ENDPOINT, cardPort, dma);
                 SharedRing c2h = SharedRing.open(SharedRing.file(dma, Direction.C2H, 0));
                 Bell hostBell = Bell.open(SharedRing.bell(dma, Role.ROOT_COMPLEX, 0))) {
                LinkUp up = host.next(LinkUp.class);
                card.awaitUp();
                host.awaitUp();
                assertTrue(Features.has(up.features(), Features.DIRECT_RING), "the link runs on the direct rings");
                int depth = up.ringDepth();
                int tag = (int) up.epoch() & 0xffff;
                long refusedBefore = c2h.counter(SharedRing.Counter.REFUSED);

                c2h.describe(1, depth, 5, tag);                                     // shorter than any frame
                c2h.describe(2, depth, Data.PACKET_OFFSET + 70_000, tag);           // longer than a slot holds
                c2h.describe(3, depth, Data.PACKET_OFFSET + 100, tag + 1);          // written in another epoch
                c2h.publish(SharedRing.pack(tag, 3));
                hostBell.ring();
                awaitCounter(c2h, refusedBefore + 3);

                c2h.publish(SharedRing.pack(tag, 3 + 10L * depth));                 // a tail far beyond the ring
                hostBell.ring();
                awaitCounter(c2h, refusedBefore + 4);
                assertNull(host.events.poll(200, TimeUnit.MILLISECONDS), "nothing reached the host: " + host.events);
                // the host's own count, which the card cannot reach (the ring's counter is in memory it maps)
                assertEquals(2, host.port.refusals(io.cardnet.link.protocol.FrameFault.Kind.BAD_LENGTH));
                assertEquals(2, host.port.refusals(io.cardnet.link.protocol.FrameFault.Kind.BAD_SLOT));
                assertTrue(host.port.isUp(), "the host end is still up");
            }
            assertTrue(host.next(String.class).startsWith("down"));
            try (TestEnd again = new TestEnd(Role.ENDPOINT, cardPort, dma)) {
                again.awaitUp();
                host.next(LinkUp.class);
                host.awaitUp();
                byte[] pkt = TestPackets.udp("after the hostile card".getBytes());
                assertTrue(again.send(pkt));
                assertArrayEquals(pkt, host.next(byte[].class));
            }
        } finally {
            Files.deleteIfExists(dir.resolve("host.sock"));
            Files.deleteIfExists(dir.resolve("card.sock"));
            Files.deleteIfExists(dir);
            assertTrue(!Files.exists(dma), "the simulator left its DMA directory behind");
        }
    }

    private static void awaitCounter(SharedRing ring, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ring.counter(SharedRing.Counter.REFUSED) < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(atLeast, ring.counter(SharedRing.Counter.REFUSED), "descriptors refused and counted");
    }
}
