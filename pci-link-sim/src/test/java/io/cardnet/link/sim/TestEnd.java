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
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A well-behaved end for simulator tests: a real BusPort that records link events and packets. Queue 0's packets
 * arrive as {@code byte[]}; with several queues, every queue's as a {@link Received} naming its queue.
 */
final class TestEnd implements AutoCloseable {
    /** A packet and the queue it arrived on. */
    record Received(int queue, byte[] packet) {
    }

    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    final BusPort port;

    TestEnd(Role role, BusAddress address) {
        this(role, address, null);
    }

    TestEnd(Role role, Path socket) {
        this(role, new BusAddress.Unix(socket));
    }

    /** With {@code dmaDir}, packets travel through the simulator's shared DMA memory. */
    TestEnd(Role role, BusAddress address, Path dmaDir) {
        this(role, address, dmaDir, 1);
    }

    /** An end of {@code queues} queue pairs. */
    TestEnd(Role role, BusAddress address, Path dmaDir, int queues) {
        this(role, address, dmaDir, queues, Duration.ZERO);
    }

    /** An end that polls its direct rings adaptively for up to {@code busyPoll} after work. */
    TestEnd(Role role, BusAddress address, Path dmaDir, int queues, Duration busyPoll) {
        port = new BusPort(new BusPortConfig(role, address, Features.CSUM_UNNECESSARY,
                new Liveness(Duration.ofMillis(100), 5), Duration.ofMillis(50), dmaDir, queues, busyPoll),
                q -> new Recorder(q, queues > 1)).start();
    }

    /** What one queue hears. Link events are recorded once, from queue 0. */
    private final class Recorder implements BusPort.Listener {
        private final int queue;
        private final boolean tagged;

        Recorder(int queue, boolean tagged) {
            this.queue = queue;
            this.tagged = tagged;
        }

        @Override
        public void linkUp(LinkUp up) {
            if (queue == 0) {
                events.add(up);
            }
        }

        @Override
        public void linkDown(String reason) {
            if (queue == 0) {
                events.add("down: " + reason);
            }
        }

        @Override
        public void receive(Data data) {
            byte[] p = new byte[data.packetLength()];
            data.packet().getBytes(0, p);
            events.add(tagged ? new Received(queue, p) : p);
            data.release();
        }
    }

    /** Posts one packet on queue 0; see {@link #send(int, byte[])}. */
    boolean send(byte[] packet) throws Exception {
        awaitUp();
        return send(0, packet);
    }

    /**
     * Posts one packet (no virtio flags) on queue {@code q} the way a TUN pump does, and rings the doorbell. A
     * queue's transmit side belongs to its bus thread, so the posting runs there; this waits (up to 5 s) for a credit.
     */
    boolean send(int q, byte[] packet) throws Exception {
        BusQueue queue = port.queue(q);
        for (int i = 0; i < 250; i++) {
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
                if (!ok) {
                    d.release();
                }
                queue.flush();
                return ok;
            }).get(5, TimeUnit.SECONDS);
            if (posted != null) {
                return posted;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** True once queue {@code q} has heard the link is up and runs it. */
    boolean queueUp(int q) throws Exception {
        BusQueue queue = port.queue(q);
        return queue.eventLoop().submit(queue::isUp).get(5, TimeUnit.SECONDS);
    }

    /** The next event of this type within 10 s, skipping others. */
    <T> T next(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Object o = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(o)) {
                return type.cast(o);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 10 s; events: " + events);
    }

    /** Waits until this end's port reports the link up (it may hear LINK_UP a moment after the peer). */
    void awaitUp() throws InterruptedException {
        for (int i = 0; i < 250 && !port.isUp(); i++) {
            Thread.sleep(20);
        }
        assertTrue(port.isUp(), "port never saw the link up");
    }

    @Override
    public void close() {
        port.close();
    }
}
