package io.cardnet.link.port;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.model.WireClock;
import io.cardnet.netdev.Bell;
import io.cardnet.netdev.NetdevException;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An end's side of the direct path ({@link io.cardnet.link.protocol.Features#DIRECT_RING}): its transmit ring and
 * the peer's doorbell, its receive ring and its own doorbell, all in shared memory next to the DMA regions.
 *
 * <pre>
 *  producer: TUN ─read─▶ DMA slot ─describe─▶ tx ring ─publish tail─▶ (peer armed? ring the peer's bell)
 *  consumer: own bell ─epoll─▶ rx ring up to tail ─▶ TUN write ─release head─▶ (producer waiting? ring its bell)
 * </pre>
 *
 * A bell is rung only when the other side has said it is about to sleep (armed), so under load neither side
 * makes a system call to signal the other: the consumer finds more descriptors each time it looks, the producer
 * finds free slots. The simulator trains the link, sets the rings up for each epoch and reads their counters;
 * it touches no descriptor. Everything here runs on the end's bus thread.
 */
final class DirectRing implements AutoCloseable {
    /** Descriptors consumed per look before the bus thread serves its other sockets (the TUN, the bus). */
    private static final int BUDGET = 256;

    private final int depth;
    private final int epochTag;
    private final SharedRing tx;
    private final SharedRing rx;
    private final DmaRegion rxRegion;
    private final Bell mine;
    private final Bell peer;
    private final Consumer<Data> deliver;
    private final Runnable afterBatch;
    private final Consumer<FrameFault> refused;
    private final IoEventLoop loop;
    /** This queue's first slot in the direction's DMA region. */
    private final int slotBase;
    private IoRegistration registration;
    private long published;
    private long head;
    private long processed;
    private boolean waitingForCredit;
    private boolean closed;
    /**
     * Descriptors due within this much of now are published with the current timer tick: the wire clock still
     * advances by exactly the modelled time per descriptor, so the long-run rate is the model's (as in the
     * simulator's engine).
     */
    private static final long SLACK_NANOS = 20_000;
    /** This end's transmit wire (shared by its queues), paced by the model the simulator publishes in the ring. */
    private final TransmitWire wire;
    private final int[] packetLengths;
    private final long[] dueAt;
    private long described;
    private long scheduled;
    private io.netty.util.concurrent.ScheduledFuture<?> publishTimer;
    private boolean holdTimerArmed;
    private Runnable creditListener = () -> { };
    /** Adaptive polling: how long to keep looking (ring and TUN) after work before sleeping. */
    private final PollWindow pollWindow;
    /** When this end last moved a descriptor either way. */
    private long lastWork;
    /** When this end armed its bell and slept; -1 while awake. */
    private long sleptAt = -1;
    private boolean spinQueued;

    private DirectRing(IoEventLoop loop, TransmitWire wire, PollWindow pollWindow, LinkUp link, int slotBase, SharedRing tx, SharedRing rx, DmaRegion rxRegion, Bell mine, Bell peer,
                       Consumer<Data> deliver, Runnable afterBatch, Consumer<FrameFault> refused) {
        this.loop = loop;
        this.wire = wire;
        this.pollWindow = pollWindow;
        this.slotBase = slotBase;
        this.depth = link.ringDepth();
        this.packetLengths = new int[depth];
        this.dueAt = new long[depth];
        this.epochTag = (int) link.epoch() & 0xffff;
        this.tx = tx;
        this.rx = rx;
        this.rxRegion = rxRegion;
        this.mine = mine;
        this.peer = peer;
        this.deliver = deliver;
        this.afterBatch = afterBatch;
        this.refused = refused;
    }

    /** The files the direct path needs (those of queue 0, which every link runs), in the simulator's DMA directory. */
    static boolean available(Path dmaDir) {
        return dmaDir != null && Files.exists(SharedRing.file(dmaDir, Direction.H2C, 0))
                && Files.exists(SharedRing.file(dmaDir, Direction.C2H, 0))
                && Files.exists(SharedRing.bell(dmaDir, Role.ROOT_COMPLEX, 0))
                && Files.exists(SharedRing.bell(dmaDir, Role.ENDPOINT, 0));
    }

    /**
     * Attaches to the rings for {@code link}'s epoch and puts this end's bell into {@code loop}'s epoll set.
     * Fails if the simulator did not set the rings up for this epoch.
     */
    static DirectRing attach(Path dmaDir, Role role, int queue, LinkUp link, DmaRegion rxRegion, IoEventLoop loop,
                             TransmitWire wire, java.time.Duration busyPoll,
                             Consumer<Data> deliver, Runnable afterBatch, Consumer<FrameFault> refused) throws IOException {
        SharedRing tx = null;
        SharedRing rx = null;
        Bell mine = null;
        Bell peer = null;
        try {
            tx = SharedRing.open(SharedRing.file(dmaDir, Direction.from(role), queue));
            rx = SharedRing.open(SharedRing.file(dmaDir, Direction.from(role.peer()), queue));
            for (SharedRing r : new SharedRing[]{tx, rx}) {
                if (r.epoch() != link.epoch() || r.depth() != link.ringDepth()) {
                    throw new IOException(r.path() + " is set up for epoch " + r.epoch() + " depth " + r.depth()
                            + ", the link trained epoch " + link.epoch() + " depth " + link.ringDepth());
                }
            }
            mine = Bell.open(SharedRing.bell(dmaDir, role, queue));
            peer = Bell.open(SharedRing.bell(dmaDir, role.peer(), queue));
            DirectRing d = new DirectRing(loop, wire, new PollWindow(busyPoll.toNanos()), link, SharedRing.slotBase(queue, link.ringDepth()), tx, rx, rxRegion,
                    mine, peer, deliver, afterBatch, refused);
            d.registration = loop.register(d.new Doorbell()).syncUninterruptibly().getNow();
            d.registration.submit(EpollIoOps.EPOLLIN);
            mine.drain();
            // look once: the producer may have published before this end listened
            loop.execute(d::look);
            return d;
        } catch (NetdevException | RuntimeException e) {
            closeAll(tx, rx, mine, peer);
            throw new IOException("cannot attach to the direct rings: " + e.getMessage(), e);
        } catch (IOException e) {
            closeAll(tx, rx, mine, peer);
            throw e;
        }
    }

    private static void closeAll(AutoCloseable... all) {
        for (AutoCloseable c : all) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing what was half opened
                }
            }
        }
    }

    // ------------------------------------------------------------------ transmit

    /** Free slots; when there are none, arms the credit bell (the consumer rings it when a slot frees). */
    int credits(long lastSequence) {
        int free = freeSlots(lastSequence);
        if (free == 0 && !waitingForCredit) {
            tx.armProducer();
            free = freeSlots(lastSequence);
            if (free == 0) {
                waitingForCredit = true;
                tx.count(SharedRing.Counter.CREDIT_STALLS, 1);
            } else {
                tx.disarmProducer();
            }
        }
        return free;
    }

    private int freeSlots(long lastSequence) {
        long h = tx.head();
        if (SharedRing.epochOf(h) == epochTag) {
            head = SharedRing.sequenceOf(h);
        }
        // a consumer's head beyond what was posted (a broken or hostile card) gives no more than a ring's worth
        return (int) Math.min(depth, Math.max(0, depth - (lastSequence - head)));
    }

    /** Describes descriptor {@code sequence} in its slot; it becomes visible with {@link #publish}. */
    void describe(long sequence, int frameLength, int packetLength) {
        tx.describe(sequence, depth, frameLength, epochTag);
        tx.count(SharedRing.Counter.PACKETS, 1);
        tx.count(SharedRing.Counter.BYTES, packetLength);
        packetLengths[(int) (sequence % depth)] = packetLength;
        described = sequence;
    }

    /**
     * Publishes everything described up to {@code sequence}, ringing the consumer's bell if it sleeps. On a paced
     * link each descriptor first goes onto this end's wire clock and is published when the model says its last
     * byte (plus the link's latency) has arrived, as a real link's transmitter paces its TLPs: the consumer cannot
     * see it earlier, and the slot stays this end's (no credit back) until then.
     */
    void publish(long sequence) {
        if (!wire.paced(tx)) {
            scheduled = Math.max(scheduled, sequence);
            publishUpTo(sequence);
            return;
        }
        long now = System.nanoTime();
        for (long s = scheduled + 1; s <= sequence; s++) {
            WireClock.Transfer t = wire.send(now, packetLengths[(int) (s % depth)]);
            dueAt[(int) (s % depth)] = t.deliverAt();
            tx.count(SharedRing.Counter.TLPS, t.tlps());
            tx.count(SharedRing.Counter.WIRE_BUSY_NANOS, t.busyNanos());
        }
        scheduled = Math.max(scheduled, sequence);
        publishDue();
    }

    /** Publishes every scheduled descriptor whose time has come, and sets a timer for the next one. */
    private void publishDue() {
        long now = System.nanoTime();
        long upTo = published;
        while (upTo < scheduled && dueAt[(int) ((upTo + 1) % depth)] <= now + SLACK_NANOS) {
            upTo++;
        }
        publishUpTo(upTo);
        if (upTo < scheduled && publishTimer == null) {
            // deliveries are in order, so the next one due is always the earliest
            publishTimer = loop.schedule(() -> {
                publishTimer = null;
                if (!closed) {
                    publishDue();
                }
            }, Math.max(0, dueAt[(int) ((upTo + 1) % depth)] - now - SLACK_NANOS), TimeUnit.NANOSECONDS);
        }
    }

    private void publishUpTo(long sequence) {
        if (sequence <= published) {
            return;
        }
        published = sequence;
        if (tx.publish(SharedRing.pack(epochTag, sequence))) {
            ringPeer(SharedRing.Counter.DOORBELLS, tx);
        }
        // an answer may follow soon (a reply, ACKs): keep looking for it for the poll window
        worked(System.nanoTime());
        if (pollWindow.windowNanos() > 0 && !spinQueued) {
            rx.disarmConsumer();
            queueSpin();
        }
    }

    /** Work was found at {@code now}: a wake-up ends the sleep, which tells the poll window how sparse traffic is. */
    private void worked(long now) {
        if (sleptAt >= 0) {
            pollWindow.woke(now - sleptAt);
            sleptAt = -1;
        }
        lastWork = now;
    }

    private void queueSpin() {
        spinQueued = true;
        loop.execute(this::spinTick);
    }

    /**
     * One look while polling: the TUN (the listener reads what its kernel queued) and the receive ring. A task
     * that queues itself again, since Netty runs queued tasks before it asks epoll again; the window is short.
     */
    private void spinTick() {
        spinQueued = false;
        if (closed) {
            return;
        }
        afterBatch.run();
        look();
    }

    /** Rings the other end's bell: a doorbell or an interrupt, one small TLP on this end's transmit wire. */
    private void ringPeer(SharedRing.Counter what, SharedRing countIn) {
        peer.ring();
        countIn.count(what, 1);
        wire.notification(System.nanoTime());
    }



    // ------------------------------------------------------------------ receive

    /**
     * Consumes what the producer published, up to a budget, frees the slots, lets the listener answer (a TUN whose
     * kernel replied at once), and arms this end's bell once there is nothing more. Returns true if credits came
     * back to this end's transmit ring while it waited for them.
     */
    void look() {
        if (closed) {
            return;
        }
        if (poll()) {
            creditListener.run();
        }
    }

    private boolean poll() {
        long hold = rx.heldUntil() - System.nanoTime();
        if (hold > 0) {
            // the engine is stalled (an injected fault): look again when it runs
            if (!holdTimerArmed) {
                holdTimerArmed = true;
                loop.schedule(() -> {
                    holdTimerArmed = false;
                    look();
                }, hold, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
            return false;
        }
        int budget = BUDGET;
        while (true) {
            long t = rx.tail();
            long upTo = SharedRing.epochOf(t) == epochTag ? SharedRing.sequenceOf(t) : processed;
            if (!tailInRange(upTo, processed, depth)) {
                refused.accept(new FrameFault(FrameFault.Kind.BAD_SLOT, "the producer published tail " + upTo
                        + " after " + processed + " in a ring of " + depth + "; ignored"));
                rx.count(SharedRing.Counter.REFUSED, 1);
                upTo = processed;
            }
            boolean any = false;
            while (processed < upTo && budget > 0) {
                long seq = ++processed;
                budget--;
                any = true;
                switch (view(seq)) {
                    case Decoded.Ok<Data>(Data d) -> {
                        d.sequence(seq);
                        deliver.accept(d);
                    }
                    case Decoded.Refused<Data>(FrameFault fault) -> {
                        rx.count(SharedRing.Counter.REFUSED, 1);
                        refused.accept(fault);
                    }
                }
            }
            if (any) {
                worked(System.nanoTime());
                if (rx.release(SharedRing.pack(epochTag, processed))) {
                    ringPeer(SharedRing.Counter.COMPLETIONS, rx);
                }
                afterBatch.run();
            }
            if (budget == 0) {
                // more may wait: come back after the loop's other work, without sleeping
                loop.execute(this::look);
                break;
            }
            if (processed == upTo && pollWindow.polling(lastWork, System.nanoTime())) {
                if (!spinQueued) {
                    queueSpin();
                }
                break;
            }
            if (processed == upTo) {
                // sleep unless the tail moved since it was read (a tail refused above does not count as work)
                rx.armConsumer();
                if (rx.tail() == t) {
                    if (sleptAt < 0) {
                        sleptAt = System.nanoTime();
                    }
                    break;
                }
                rx.disarmConsumer();
            }
        }
        if (waitingForCredit && freeSlots(described) > 0) {
            waitingForCredit = false;
            return true;
        }
        return false;
    }

    /** Descriptor {@code seq} as the producer described it, checked like a frame from a socket. */
    private Decoded<Data> view(long seq) {
        return view(rx, rxRegion, slotBase, depth, epochTag, seq);
    }

    /**
     * A published tail the consumer at {@code processed} may follow: not behind what it consumed, and not more
     * than a ring ahead of it (the producer cannot have more descriptors outstanding than slots).
     */
    static boolean tailInRange(long upTo, long processed, int depth) {
        return upTo >= processed && upTo - processed <= depth;
    }

    /**
     * Descriptor {@code seq} of {@code rx} (a ring of {@code depth} whose slots start at {@code slotBase} of
     * {@code region}): written in this epoch, of a length a slot holds, then checked like a DATA frame. The entry
     * is the producer's to write, so nothing here may throw (DirectRingFuzzTest).
     */
    static Decoded<Data> view(SharedRing rx, DmaRegion region, int slotBase, int depth, int epochTag, long seq) {
        int length = rx.frameLength(seq, depth);
        int tag = rx.epochTag(seq, depth);
        if (tag != epochTag) {
            return Decoded.refused(FrameFault.Kind.BAD_SLOT, "descriptor " + seq + " was written in epoch tag " + tag
                    + ", the link is in " + epochTag);
        }
        if (length < Data.PACKET_OFFSET + Data.MIN_PACKET || length > Data.PACKET_OFFSET + Data.MAX_PACKET) {
            return Decoded.refused(FrameFault.Kind.BAD_LENGTH, "descriptor " + seq + " of " + length
                    + " bytes; a descriptor holds " + (Data.PACKET_OFFSET + Data.MIN_PACKET) + ".."
                    + (Data.PACKET_OFFSET + Data.MAX_PACKET));
        }
        return FrameDecoder.data(region.frame(slotBase + (int) (seq % depth), length));
    }

    /** Consumer wake-ups: each time this end's bell woke it. */
    private final class Doorbell implements EpollIoHandle {
        private final FileDescriptor fd = new FileDescriptor(mine.fd());

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            mine.drain();
            rx.count(SharedRing.Counter.CONSUMER_WAKEUPS, 1);
            look();
        }

        @Override
        public void close() {
            // the Bell closes its own fd
        }
    }

    /** What to run on the bus thread when credits come back after a stall. */
    void onCredit(Runnable r) {
        creditListener = r;
    }

    @Override
    public void close() {
        closed = true;
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        closeAll(tx, rx, mine, peer);
    }
}
