package io.cardnet.link.sim;

import io.cardnet.link.port.BusPort;
import io.cardnet.link.port.BusPortConfig;
import io.cardnet.link.port.BusQueue;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
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

    private record Received(int queue, byte[] packet) {
    }

    /** An end of {@code queues} queue pairs recording what each queue receives. */
    private static final class End implements AutoCloseable {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final BusPort port;

        End(Role role, BusAddress address, Path dma, int queues) {
            port = new BusPort(new BusPortConfig(role, address, Features.CSUM_UNNECESSARY,
                    new Liveness(Duration.ofMillis(100), 5), Duration.ofMillis(50), dma, queues), q -> new BusPort.Listener() {
                @Override
                public void linkUp(LinkUp up) {
                    events.add(up);
                }

                @Override
                public void linkDown(String reason) {
                }

                @Override
                public void receive(Data data) {
                    byte[] p = new byte[data.packetLength()];
                    data.packet().getBytes(0, p);
                    events.add(new Received(q, p));
                    data.release();
                }
            }).start();
        }

        /** Posts one packet on queue {@code q} from that queue's thread, waiting for a credit. */
        boolean send(int q, byte[] packet) throws Exception {
            BusQueue queue = port.queue(q);
            for (int i = 0; i < 500; i++) {
                Boolean posted = queue.eventLoop().submit(() -> {
                    if (!queue.isWritable()) {
                        return null;
                    }
                    BusPort.TxBuffer tx = queue.nextBuffer(ByteBufAllocator.DEFAULT);
                    ByteBuf b = tx.buffer();
                    b.setZero(Data.VNET_OFFSET, VnetHeader.SIZE);
                    b.setBytes(Data.PACKET_OFFSET, packet);
                    Data d = Data.seal(b, VnetHeader.SIZE + packet.length);
                    boolean ok = queue.post(tx, d);
                    queue.flush();
                    return ok;
                }).get(5, TimeUnit.SECONDS);
                if (posted != null) {
                    return posted;
                }
                Thread.sleep(10);
            }
            return false;
        }

        <T> T next(Class<T> type) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Object o = events.poll(100, TimeUnit.MILLISECONDS);
                if (type.isInstance(o)) {
                    return type.cast(o);
                }
            }
            throw new AssertionError("no " + type.getSimpleName() + " within 10 s");
        }

        @Override
        public void close() {
            port.close();
        }
    }

    @Test
    void eachQueueCarriesItsOwnDescriptorsInOrderAndTheCountersAddUp() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-mq");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-mq");
        BusAddress hostPort = new BusAddress.Unix(dir.resolve("host.sock"));
        BusAddress cardPort = new BusAddress.Unix(dir.resolve("card.sock"));
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, cardPort, null,
                new Liveness(Duration.ofMillis(100), 5), 0, dma, 4), new SimpleMeterRegistry()).start();
             End host = new End(Role.ROOT_COMPLEX, hostPort, dma, 3);
             End card = new End(Role.ENDPOINT, cardPort, dma, 4)) {
            LinkUp up = host.next(LinkUp.class);
            assertEquals(3, up.queues(), "the link runs the smallest offer: host 3, card 4, simulator 4");
            assertTrue(Features.has(up.features(), Features.DIRECT_RING));
            card.next(LinkUp.class);
            for (int q = 0; q < 3; q++) {
                final int queue = q;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!host.port.queue(q).eventLoop().submit(() -> host.port.queue(queue).isUp()).get()
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
            }
            assertEquals(false, card.port.queue(3).eventLoop().submit(() -> card.port.queue(3).isUp()).get(),
                    "a queue the link does not run stays down");

            // interleaved across queues; more than a ring's worth (256) on each, so credits must come back per queue
            for (int i = 0; i < PER_QUEUE; i++) {
                for (int q = 0; q < 3; q++) {
                    assertTrue(host.send(q, packet(q, i)), "queue " + q + " descriptor " + i);
                }
            }
            int[] next = new int[3];
            for (int n = 0; n < 3 * PER_QUEUE; n++) {
                Received r = card.next(Received.class);
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
