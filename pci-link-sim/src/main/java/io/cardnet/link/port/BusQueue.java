package io.cardnet.link.port;

import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.LinkUp;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEventLoop;

import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;

/**
 * One queue pair of an end, as a multi-queue NIC driver has one per CPU: its own bus thread, transmit sequence,
 * credits, direct rings and doorbells, and its own listener (the TUN queue it pumps). Everything here runs on the
 * queue's thread ({@link #eventLoop()}), which is where its listener hears every event.
 *
 * <p>On the direct rings every queue the link runs ({@link LinkUp#queues()}) moves packets by itself. On the socket
 * paths the link runs one queue: queue 0 hands its descriptors to the {@link BusPort}'s socket, and the other
 * queues are inactive (their TUN queues detached, so the kernel steers no flow to them).
 */
public final class BusQueue {
    private final BusPort port;
    private final int index;
    private final IoEventLoop loop;
    private final BusPort.Listener listener;
    private final LongAdder creditStalls = new LongAdder();
    private LinkUp up;
    private boolean active;
    private DirectRing direct;
    private long txSequence;
    private boolean stalled;

    BusQueue(BusPort port, int index, IoEventLoop loop, BusPort.Listener listener) {
        this.port = port;
        this.index = index;
        this.loop = loop;
        this.listener = listener;
    }

    public int index() {
        return index;
    }

    /** This queue's bus thread: its listener's calls and its producer run here. */
    public IoEventLoop eventLoop() {
        return loop;
    }

    /** True while the link is up and runs this queue. */
    public boolean isUp() {
        return up != null && active;
    }

    /** True while the link runs this queue (also during link down: the last state it was told). */
    public boolean active() {
        return active;
    }

    /** True while this queue's packets travel in shared DMA memory. */
    public boolean sharedMemory() {
        return direct != null ? up != null : index == 0 && port.sharedMemory();
    }

    /** True while this queue moves its descriptors on the direct rings, past the simulator. */
    public boolean direct() {
        return direct != null && up != null;
    }

    /** Times this queue's producer found no credit and had to wait. */
    public long creditStalls() {
        return creditStalls.sum();
    }

    /**
     * True while the link runs this queue, it holds a credit, and (on a socket path) the socket takes more. False
     * for want of a credit counts one credit stall; the listener hears {@link BusPort.Listener#writable()} once
     * credits come back.
     */
    public boolean isWritable() {
        if (!isUp()) {
            return false;
        }
        boolean credit = direct != null ? direct.credits(txSequence) > 0 : index == 0 && port.socketCredit();
        if (!credit) {
            if (!stalled) {
                stalled = true;
                creditStalls.increment();
            }
            return false;
        }
        return direct != null || port.socketWritable();
    }

    /** Where to read the next packet: see {@link BusPort#nextBuffer}. Call when {@link #isWritable()}. */
    public BusPort.TxBuffer nextBuffer(ByteBufAllocator alloc) {
        if (direct != null && up != null) {
            long seq = txSequence + 1;
            int slot = SharedRing.slotBase(index, up.ringDepth()) + (int) (seq % up.ringDepth());
            return new BusPort.TxBuffer(port.txSlot(slot), up.epoch(), seq, slot);
        }
        if (index == 0 && up != null) {
            return port.nextBuffer(alloc);
        }
        // a queue the link does not run (yet), or queue 0 before it heard the link is up: never a DMA slot
        return new BusPort.TxBuffer(Data.allocateForRead(alloc), -1, -1, -1);
    }

    /**
     * Posts a descriptor sealed in {@code tx}'s buffer; see {@link BusPort#post}. False: the caller drops it.
     *
     * <p>Queue 0 posts on the port's socket path only once it has itself heard the link is up ({@link #linkUp}),
     * not as soon as the port has. With several queues the port sets its link up at once but queue 0 hears it
     * last, after every other queue attached its direct rings; in between, a pump that drains its TUN (it does not
     * ask {@link #isWritable()} while its queue is not up) used to post on the socket path with no credit check.
     * On a link that runs the direct rings that sent DESCs the simulator kept in its engine for good, for slots
     * queue 0 then reused on the ring; on a socket-path link it overran the ring, rewriting slots before the
     * simulator or the consumer had read them. Both showed as {@code bad_length} refusals of a real end's
     * current-epoch descriptors after a retrain, and as descriptors left in a ring at rest (RetrainUnderLoadTest).
     */
    public boolean post(BusPort.TxBuffer tx, Data data) {
        if (direct == null) {
            return index == 0 && up != null && port.post(tx, data);
        }
        if (up == null || tx.epoch() != up.epoch() || tx.sequence() != txSequence + 1) {
            return false;
        }
        txSequence = tx.sequence();
        data.epoch(up.epoch());
        data.sequence(txSequence);
        direct.describe(txSequence, data.content().writerIndex(), data.packetLength());
        return true;
    }

    /** Rings the doorbell for what was posted since the last flush; see {@link BusPort#flush}. */
    public void flush() {
        if (direct != null) {
            direct.publish(txSequence);
        } else if (index == 0) {
            port.flush();
        }
    }

    // ------------------------------------------------------------------ link events, on this queue's thread

    /** The link trained; attaches the direct rings if it runs this queue on them. */
    void linkUp(LinkUp link, boolean runsDirect, java.nio.file.Path dmaDir) {
        detach();
        txSequence = 0;
        stalled = false;
        active = index < link.queues();
        if (active && runsDirect) {
            try {
                direct = DirectRing.attach(dmaDir, port.config().role(), index, link, port.rxRegion(), loop,
                        port.transmitWire(), port.config().busyPoll(), listener::receive, this::afterDirectBatch, port::refused);
                direct.onCredit(this::signalWritable);
            } catch (IOException e) {
                port.refuseDirect(e.getMessage());
                return;
            }
        }
        up = link;
        listener.linkUp(link);
        signalWritable();
    }

    void linkDown(String reason) {
        up = null;
        detach();
        listener.linkDown(reason);
    }

    /** Credits came back or the socket drained. */
    void signalWritable() {
        stalled = false;
        listener.writable();
    }

    /** A batch from the direct rings went to the listener: let it answer, and publish what it posted. */
    private void afterDirectBatch() {
        listener.received();
        flush();
    }

    void detach() {
        if (direct != null) {
            direct.close();
            direct = null;
        }
    }

    BusPort.Listener listener() {
        return listener;
    }
}
