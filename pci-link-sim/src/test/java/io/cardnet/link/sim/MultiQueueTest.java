package io.cardnet.link.sim;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queue pairs on the direct rings: the link runs the smallest offer, each queue's descriptors arrive on the same
 * queue at the far end in order, each queue has its own credits (more than a ring's worth crosses every queue), and
 * the simulator's per-queue counters add up to its totals.
 */
class MultiQueueTest {
    private static final int PER_QUEUE = 700;

    @Test
    void eachQueueCarriesItsOwnDescriptorsInOrderAndTheCountersAddUp() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-mq");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-mq");
        BusAddress hostPort = new BusAddress.Unix(dir.resolve("host.sock"));
        BusAddress cardPort = new BusAddress.Unix(dir.resolve("card.sock"));
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, cardPort, null,
                new Liveness(Duration.ofMillis(100), 5), 0, dma, 4), new SimpleMeterRegistry()).start();
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, hostPort, dma, 3);
             TestEnd card = new TestEnd(Role.ENDPOINT, cardPort, dma, 4)) {
            LinkUp up = host.next(LinkUp.class);
            assertEquals(3, up.queues(), "the link runs the smallest offer: host 3, card 4, simulator 4");
            assertTrue(Features.has(up.features(), Features.DIRECT_RING));
            card.next(LinkUp.class);
            for (int q = 0; q < 3; q++) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!host.queueUp(q) && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertTrue(host.queueUp(q), "queue " + q + " runs");
            }
            assertTrue(!card.queueUp(3), "a queue the link does not run stays down");

            // interleaved across queues; more than a ring's worth (256) on each, so credits must come back per queue
            for (int i = 0; i < PER_QUEUE; i++) {
                for (int q = 0; q < 3; q++) {
                    assertTrue(host.send(q, packet(q, i)), "queue " + q + " descriptor " + i);
                }
            }
            int[] next = new int[3];
            for (int n = 0; n < 3 * PER_QUEUE; n++) {
                TestEnd.Received r = card.next(TestEnd.Received.class);
                assertNotNull(r);
                assertArrayEquals(packet(r.queue(), next[r.queue()]), r.packet(),
                        "queue " + r.queue() + " delivers its own descriptors, in order");
                next[r.queue()]++;
            }
            assertEquals(PER_QUEUE, Arrays.stream(next).min().orElseThrow());

            LinkStatus s = sim.status();
            assertEquals(3, s.queues());
            long sum = 0;
            for (int q = 0; q < 3; q++) {
                long frames = s.queueTraffic().get("h2c/" + q).frames();
                assertEquals(PER_QUEUE, frames, "queue " + q + "'s counter");
                sum += frames;
            }
            assertEquals(s.traffic().get("h2c").frames(), sum, "per-queue counters add up to the total");
        } finally {
            Files.deleteIfExists(dir.resolve("host.sock"));
            Files.deleteIfExists(dir.resolve("card.sock"));
            Files.deleteIfExists(dir);
        }
        assertTrue(!Files.exists(dma), "the simulator left its DMA directory behind");
    }

    private static byte[] packet(int queue, int i) {
        return TestPackets.udp(java.nio.ByteBuffer.allocate(8).putInt(queue).putInt(i).array());
    }
}
