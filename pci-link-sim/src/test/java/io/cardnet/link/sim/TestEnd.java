package io.cardnet.link.sim;

import io.cardnet.link.port.BusPort;
import io.cardnet.link.port.BusPortConfig;
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

/** A well-behaved end for simulator tests: a real BusPort that records link events and packets. */
final class TestEnd implements BusPort.Listener, AutoCloseable {
    final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    final BusPort port;

    TestEnd(Role role, BusAddress address) {
        this(role, address, null);
    }

    /** With {@code dmaDir}, packets travel through the simulator's shared DMA memory. */
    TestEnd(Role role, BusAddress address, Path dmaDir) {
        port = new BusPort(new BusPortConfig(role, address, Features.CSUM_UNNECESSARY,
                new Liveness(Duration.ofMillis(100), 5), Duration.ofMillis(50), dmaDir), this).start();
    }

    /**
     * Posts one packet (no virtio flags) the way a TUN pump does, and rings the doorbell. A port's transmit side
     * belongs to its bus thread, so the posting runs there; this waits (up to 5 s) for a credit.
     */
    boolean send(byte[] packet) throws Exception {
        awaitUp();
        for (int i = 0; i < 250; i++) {
            // a port's transmit side belongs to its queue's bus thread
            Boolean posted = port.eventLoop().submit(() -> {
                if (!port.isWritable()) {
                    return null;
                }
                BusPort.TxBuffer tx = port.nextBuffer(ByteBufAllocator.DEFAULT);
                ByteBuf b = tx.buffer();
                b.setZero(Data.VNET_OFFSET, VnetHeader.SIZE);
                b.setBytes(Data.PACKET_OFFSET, packet);
                Data d = Data.seal(b, VnetHeader.SIZE + packet.length);
                boolean ok = port.post(tx, d);
                if (!ok) {
                    d.release();
                }
                port.flush();
                return ok;
            }).get(5, TimeUnit.SECONDS);
            if (posted != null) {
                return posted;
            }
            Thread.sleep(20);
        }
        return false;
    }

    TestEnd(Role role, Path socket) {
        this(role, new BusAddress.Unix(socket));
    }

    @Override
    public void linkUp(LinkUp up) {
        events.add(up);
    }

    @Override
    public void linkDown(String reason) {
        events.add("down: " + reason);
    }

    @Override
    public void receive(Data data) {
        byte[] p = new byte[data.packetLength()];
        data.packet().getBytes(0, p);
        events.add(p);
        data.release();
    }

    /** The next event of this type within 5 s, skipping others. */
    <T> T next(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            Object o = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(o)) {
                return type.cast(o);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 5 s; events: " + events);
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
