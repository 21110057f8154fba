package io.cardnet.link.port;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.Frame;
import io.cardnet.link.protocol.BusTransport;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Heartbeat;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.RxDone;
import io.cardnet.link.protocol.Train;
import io.cardnet.link.protocol.TrainReject;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * An end's attachment to the bus, the driver's view of the device: connects to its simulator port, trains,
 * keeps the heartbeat, and reconnects and retrains for as long as it runs.
 *
 * <p>Transmit ({@link #nextBuffer}, {@link #post}, {@link #flush}): each descriptor takes a credit (a free ring
 * slot) and the next sequence number; a flush rings the doorbell for everything posted since the last one.
 * Three ways, negotiated in training:
 * <ul>
 *   <li>direct rings ({@link Features#DIRECT_RING}): the packet is read into its DMA slot, its descriptor is
 *       written into the shared ring and the peer's bell rung only if it sleeps ({@link DirectRing}); nothing
 *       crosses the simulator;</li>
 *   <li>shared memory: the packet is read into its DMA slot and a 24-byte {@code DESC} crosses the socket;</li>
 *   <li>frames: the whole DATA frame crosses the socket.</li>
 * </ul>
 * With no credit left {@link #isWritable()} is false, the stall is counted, and the listener hears
 * {@link Listener#writable()} when credits come back.
 *
 * <p>Receive (the two socket paths): descriptors wait in the receive ring until an interrupt says to process them
 * (so coalescing shows up as latency, as behind NAPI); after each batch an {@code RX_DONE} tells the simulator the
 * buffers are free, which is what returns the producer's credits. The listener hears link up, link down and each
 * processed descriptor.
 *
 * <p>Everything here runs on the bus thread ({@link #eventLoop()}): the listener's calls, and the producer's,
 * which must call from there too (a TUN in the same epoll set). Only {@link #isUp()}, {@link #link()},
 * {@link #credits()} and {@link #creditStalls()} may be read from elsewhere.
 */
public final class BusPort implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BusPort.class);
    private static final WriteBufferWaterMark SOCKET = new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024);
    /** While the bus stays unreachable, say so again after this long. */
    private static final long REPEAT_NOTICE_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** What an end does with the link's events; called on the bus thread. */
    public interface Listener {
        void linkUp(LinkUp up);

        void linkDown(String reason);

        /** A descriptor from the other end; the listener owns it and must release it. */
        void receive(Data data);

        /** This end may post again: credits came back, the socket drained, or the link changed. */
        default void writable() {
        }

        /**
         * A batch of descriptors was just received. A listener that answers them (a TUN whose kernel has already
         * queued the reply) may post and flush now: the reply then leaves with this batch's RX_DONE in one write.
         */
        default void received() {
        }
    }

    /** A buffer for the next packet: a DMA slot reserved for one sequence of one epoch, or a pooled buffer. */
    public record TxBuffer(ByteBuf buffer, long epoch, long sequence, int slot) {
        public boolean shared() {
            return slot >= 0;
        }
    }

    private final BusPortConfig config;
    private final EventLoopGroup group;
    private final BusQueue[] queues;
    private final Bootstrap bootstrap;
    private final ArrayDeque<Data> receiveRing = new ArrayDeque<>();
    /** Free slots of the socket paths' ring (the simulator's interrupts return them); read by the metrics thread. */
    private volatile int credits;
    private long txSequence;
    private volatile DmaRegion txRegion;
    private volatile DmaRegion rxRegion;
    private long doorbellRungAt;
    /** The direct rings could not be attached: train without offering them until the process restarts. */
    private volatile boolean directRefused;
    private volatile Channel channel;
    private volatile LinkUp up;
    private volatile boolean shared;
    private volatile boolean closed;
    private long lastNotice;
    private String lastProblem = "";

    /** An end of one queue pair. */
    public BusPort(BusPortConfig config, Listener listener) {
        this(config, q -> listener);
        if (config.queues() != 1) {
            throw new IllegalArgumentException("one listener for " + config.queues() + " queues; give one per queue");
        }
    }

    /**
     * An end of {@code config.queues()} queue pairs, each with a bus thread of its own and the listener
     * {@code listeners} gives for its index. The bus socket lives on queue 0's thread.
     */
    public BusPort(BusPortConfig config, java.util.function.IntFunction<Listener> listeners) {
        this.config = config;
        this.group = BusTransport.newGroup(config.queues(), "bus-" + config.role().shortName());
        this.queues = new BusQueue[config.queues()];
        java.util.Iterator<io.netty.util.concurrent.EventExecutor> loops = group.iterator();
        for (int q = 0; q < queues.length; q++) {
            queues[q] = new BusQueue(this, q, (io.netty.channel.IoEventLoop) loops.next(), listeners.apply(q));
        }
        long idle = config.liveness().interval().toMillis();
        long dead = config.liveness().deadline().toMillis();
        this.bootstrap = new Bootstrap().group(queues[0].eventLoop())
                .channel(BusTransport.clientChannel(config.address()))
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, SOCKET)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new IdleStateHandler(dead, idle, 0, TimeUnit.MILLISECONDS),
                                new FrameDecoder(), FrameEncoder.INSTANCE, new EndHandler());
                    }
                });
    }

    public BusPortConfig config() {
        return config;
    }

    /** Starts connecting; returns at once. */
    public BusPort start() {
        connect();
        return this;
    }

    private void connect() {
        if (closed) {
            return;
        }
        ChannelFuture f = bootstrap.connect(BusTransport.socketAddress(config.address()));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                problem("bus unreachable at " + config.address() + " (" + done.cause().getMessage()
                        + "); retrying every " + config.retry().toMillis() + " ms");
                retryLater();
            }
        });
    }

    private void retryLater() {
        if (!closed) {
            group.schedule(this::connect, config.retry().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Logs a problem once, and again only if it changes or persists for a while. */
    private void problem(String text) {
        long now = System.nanoTime();
        if (!text.equals(lastProblem) || now - lastNotice > REPEAT_NOTICE_NANOS) {
            log.warn(text);
            lastProblem = text;
            lastNotice = now;
        }
    }

    // ------------------------------------------------------------------ link state for the producer

    /** The link's negotiated parameters while it is up, else null. */
    public LinkUp link() {
        return up;
    }

    public boolean isUp() {
        return up != null;
    }

    /** True while packets travel in shared DMA memory. */
    public boolean sharedMemory() {
        return shared && up != null;
    }

    /** True while the link runs on the direct rings: no descriptor crosses the simulator. */
    public boolean direct() {
        LinkUp link = up;
        return link != null && Features.has(link.features(), Features.DIRECT_RING);
    }

    /** Queue pair {@code q}: what a TUN queue's pump posts into and hears from. */
    public BusQueue queue(int q) {
        return queues[q];
    }

    /** Queue pairs this end has (the link may run fewer: {@link LinkUp#queues()}). */
    public int queueCount() {
        return queues.length;
    }

    /** Queue 0's {@link BusQueue#isWritable()}: for a single-queue end. */
    public boolean isWritable() {
        return queues[0].isWritable();
    }

    /** Free ring slots this end may still post into on the socket paths (the direct rings count in shared memory). */
    public int credits() {
        return credits;
    }

    /** Times a producer of any queue found no credit and had to wait. */
    public long creditStalls() {
        long n = 0;
        for (BusQueue q : queues) {
            n += q.creditStalls();
        }
        return n;
    }

    boolean socketCredit() {
        return credits > 0;
    }

    boolean socketWritable() {
        Channel ch = channel;
        return ch != null && ch.isWritable();
    }

    /** A slot of this end's transmit region, writer index at the virtio header. */
    io.netty.buffer.ByteBuf txSlot(int slot) {
        return txRegion.slot(slot).writerIndex(Data.VNET_OFFSET);
    }

    DmaRegion rxRegion() {
        return rxRegion;
    }

    /** This end's transmit wire on the direct rings, shared by its queues (one physical link). */
    TransmitWire transmitWire() {
        return transmitWire;
    }

    private final TransmitWire transmitWire = new TransmitWire();

    // ------------------------------------------------------------------ transmit on the socket paths (queue 0)

    /**
     * Where to read the next packet (at {@link Data#VNET_OFFSET}): the DMA slot of the next sequence when the
     * link shares memory, else a buffer from {@code alloc}. Call when {@link #isWritable()}.
     */
    public TxBuffer nextBuffer(ByteBufAllocator alloc) {
        if (queues[0].direct()) {
            return queues[0].nextBuffer(alloc);
        }
        LinkUp link = up;
        if (link != null && shared) {
            long seq = txSequence + 1;
            int slot = (int) (seq % link.ringDepth());
            return new TxBuffer(txRegion.slot(slot).writerIndex(Data.VNET_OFFSET), link.epoch(), seq, slot);
        }
        return new TxBuffer(Data.allocateForRead(alloc), link == null ? -1 : link.epoch(), -1, -1);
    }

    /**
     * Posts a descriptor sealed in {@code tx}'s buffer: stamps the epoch and sequence, spends a credit, and
     * queues the frame (DATA) or its descriptor (DESC). False if the link is down or retrained since
     * {@code tx} was taken; the caller drops the packet.
     */
    public boolean post(TxBuffer tx, Data data) {
        if (queues[0].direct()) {
            return queues[0].post(tx, data);
        }
        Channel ch = channel;
        LinkUp link = up;
        if (ch == null || link == null || (tx.shared() && (tx.epoch() != link.epoch() || !shared))) {
            return false;
        }
        long seq = txSequence + 1;
        if (tx.shared() && seq != tx.sequence()) {
            return false;
        }
        if (credits <= 0) {
            // past its credits the next slot is one the consumer may still be reading: never post there
            return false;
        }
        txSequence = seq;
        data.epoch(link.epoch());
        data.sequence(seq);
        credits--;
        if (tx.shared()) {
            pending.add(new Desc(seq, tx.slot(), data.content().writerIndex(), (int) link.epoch() & 0xffff));
        } else {
            pending.add(data);
        }
        return true;
    }

    /**
     * Rings the doorbell for the descriptors posted since the last one: on the direct rings, publishes the tail
     * (and wakes the consumer only if it sleeps); on a socket path, sends the posted frames and a DOORBELL.
     */
    public void flush() {
        if (queues[0].direct()) {
            queues[0].flush();
            return;
        }
        Channel ch = channel;
        LinkUp link = up;
        if (ch == null) {
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
            return;
        }
        long tail = txSequence;
        if (link != null && tail != doorbellRungAt) {
            doorbellRungAt = tail;
            pending.add(new Doorbell(tail, link.epoch()));
        }
        if (pending.isEmpty()) {
            return;
        }
        for (Frame frame : pending) {
            ch.write(frame, ch.voidPromise());
        }
        pending.clear();
        ch.flush();
    }

    /** Frames posted since the last flush (socket paths). */
    private final java.util.List<Frame> pending = new java.util.ArrayList<>();

    /** Queue 0's bus thread, where the bus socket lives: its listener hears everything there. */
    public io.netty.channel.IoEventLoop eventLoop() {
        return queues[0].eventLoop();
    }

    /** Runs {@code work} for every queue on that queue's thread (queue 0, the caller's, at once). */
    private void eachQueue(java.util.function.Consumer<BusQueue> work) {
        for (BusQueue q : queues) {
            if (q.eventLoop().inEventLoop()) {
                work.accept(q);
            } else {
                q.eventLoop().execute(() -> work.accept(q));
            }
        }
    }

    /** The direct rings were negotiated but a queue cannot attach them: retrain without offering them. */
    void refuseDirect(String why) {
        log.error("{}; retraining without the direct rings", why);
        directRefused = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close();
        }
    }

    // ------------------------------------------------------------------ shared memory

    /**
     * Maps the two regions when the link trains with shared memory, and maps them again if the simulator was
     * restarted and made new ones. The old mappings are closed a moment later, once no packet is in flight in
     * them (their descriptors belong to a dead epoch and are refused anyway).
     */
    private boolean mapRegions() {
        Direction out = Direction.from(config.role());
        Direction in = Direction.from(config.role().peer());
        java.nio.file.Path txPath = config.dmaDir().resolve(out.tag() + ".dma");
        java.nio.file.Path rxPath = config.dmaDir().resolve(in.tag() + ".dma");
        if (txRegion != null && txRegion.fileKey() != null
                && txRegion.fileKey().equals(DmaRegion.fileKeyOf(txPath))
                && rxRegion.fileKey().equals(DmaRegion.fileKeyOf(rxPath))) {
            return true;
        }
        try {
            DmaRegion tx = DmaRegion.open(txPath);
            DmaRegion rx;
            try {
                rx = DmaRegion.open(rxPath);
            } catch (IOException e) {
                tx.close();
                throw e;
            }
            retire(txRegion, rxRegion);
            txRegion = tx;
            rxRegion = rx;
            return true;
        } catch (IOException e) {
            log.error("shared memory was negotiated but cannot be mapped ({}); falling back to frames", e.getMessage());
            return false;
        }
    }

    private void retire(DmaRegion... old) {
        for (DmaRegion r : old) {
            if (r != null) {
                log.info("the simulator made a new DMA region; unmapping the old {}", r.path());
                group.schedule(r::close, 2, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        for (BusQueue q : queues) {
            q.detach();
        }
        if (txRegion != null) {
            txRegion.close();
            rxRegion.close();
        }
    }

    /** The pipeline's last handler: training, link events, heartbeats, descriptors. */
    private final class EndHandler extends ChannelInboundHandlerAdapter {
        private long processedUpTo;
        /** The last received descriptor refused here, until an RX_DONE frees it. */
        private long refusedUpTo;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            lastProblem = "";
            log.info("attached to the bus at {}; training as {}", config.address(), config.role().description());
            ctx.writeAndFlush(train());
        }

        private Train train() {
            long features = config.features();
            boolean direct = Features.has(features, Features.SHARED_MEMORY) && !directRefused
                    && DirectRing.available(config.dmaDir());
            if (direct) {
                features |= Features.DIRECT_RING;
            }
            // more than one queue pair only on the direct rings: the simulator's engines run one ring per direction
            return new Train(Protocol.VERSION, config.role(), Data.MAX_PACKET, features, direct ? queues.length : 1);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case Data data -> {
                    if (up == null || direct()) {
                        data.release();
                    } else {
                        receiveRing.addLast(data);
                    }
                }
                case Desc desc -> {
                    LinkUp link = up;
                    if (link != null && shared && !direct() && desc.epoch() == ((int) link.epoch() & 0xffff)) {
                        receive(desc, link);
                    }
                }
                case Interrupt irq -> interrupt(ctx, irq);
                case LinkUp linkUp -> linkUp(linkUp);
                case LinkDown down -> goDown(down.reason(), ctx.channel());
                case TrainReject reject -> {
                    problem("the bus refused this end: " + reject.reason());
                    ctx.close();
                }
                case Heartbeat ignored -> {
                    // liveness only
                }
                case FrameFault fault -> refused(fault);
                default -> ReferenceCountUtil.release(msg);
            }
        }

        /**
         * A DESC the simulator delivered, checked again here: the slot must be one of the ring's, and the bytes in it
         * are checked like a DATA frame, because the producer that owns the slot could have rewritten it after the
         * simulator checked it. A refused one is still processed (its receive sequence is freed with the next RX_DONE).
         */
        private void receive(Desc desc, LinkUp link) {
            Decoded<Data> checked = desc.slot() >= link.ringDepth()
                    ? Decoded.refused(FrameFault.Kind.BAD_SLOT, "DESC names slot " + desc.slot() + " of a ring of "
                    + link.ringDepth())
                    : rxRegion.descriptor(desc.slot(), desc.length());
            switch (checked) {
                case Decoded.Ok<Data>(Data d) -> {
                    d.sequence(desc.sequence());
                    receiveRing.addLast(d);
                }
                case Decoded.Refused<Data>(FrameFault fault) -> {
                    refusedUpTo = Math.max(refusedUpTo, desc.sequence());
                    refused(fault);
                }
            }
        }

        /** Processes received descriptors up to the interrupt's mark, frees them, and takes credits back. */
        private void interrupt(ChannelHandlerContext ctx, Interrupt irq) {
            boolean processed = false;
            BusQueue q0 = queues[0];
            while (!receiveRing.isEmpty() && receiveRing.peekFirst().sequence() <= irq.rxUpTo()) {
                Data d = receiveRing.pollFirst();
                processedUpTo = d.sequence();
                q0.listener().receive(d);
                processed = true;
            }
            if (refusedUpTo > processedUpTo && refusedUpTo <= irq.rxUpTo()) {
                // a refused descriptor's buffer is free too: its producer gets the credit back
                processedUpTo = refusedUpTo;
                processed = true;
            }
            LinkUp link = up;
            if (processed && link != null) {
                ctx.write(new RxDone(processedUpTo, link.epoch()), ctx.voidPromise());
                q0.listener().received();
                ctx.flush();
            }
            if (irq.credits() != 0 && link != null) {
                // credits come back only for descriptors outstanding: never more than the ring holds
                int room = link.ringDepth() - credits;
                if (irq.credits() < 0 || irq.credits() > room) {
                    refused(new FrameFault(FrameFault.Kind.EXCESS_CREDITS, "an interrupt returned "
                            + Integer.toUnsignedString(irq.credits()) + " credits with " + credits + " of "
                            + link.ringDepth() + " free; took " + Math.max(room, 0)));
                }
                credits += Math.clamp(irq.credits(), 0, Math.max(room, 0));
                q0.signalWritable();
            }
        }

        private void linkUp(LinkUp linkUp) {
            boolean wantShared = Features.has(linkUp.features(), Features.SHARED_MEMORY);
            shared = wantShared && mapRegions();
            log.info("link up: epoch {}, max packet {}, ring {}, features {}{}", linkUp.epoch(), linkUp.maxPacket(),
                    linkUp.ringDepth(), Features.describe(linkUp.features()),
                    wantShared && !shared ? " (shared memory unavailable here)" : "");
            dropReceiveRing();
            processedUpTo = 0;
            refusedUpTo = 0;
            txSequence = 0;
            doorbellRungAt = 0;
            credits = linkUp.ringDepth();
            boolean runsDirect = shared && Features.has(linkUp.features(), Features.DIRECT_RING);
            up = linkUp;
            // Queue 0 last: its pump turns the device's carrier on, and the kernel must not steer a packet to a
            // queue that has not yet heard the link is up (it would be dropped there).
            java.util.concurrent.atomic.AtomicInteger others = new java.util.concurrent.atomic.AtomicInteger(queues.length - 1);
            Runnable first = () -> queues[0].linkUp(linkUp, runsDirect, config.dmaDir());
            if (queues.length == 1) {
                first.run();
                return;
            }
            for (int q = 1; q < queues.length; q++) {
                BusQueue queue = queues[q];
                queue.eventLoop().execute(() -> {
                    queue.linkUp(linkUp, runsDirect, config.dmaDir());
                    if (others.decrementAndGet() == 0) {
                        queues[0].eventLoop().execute(() -> {
                            if (up == linkUp) {
                                first.run();
                            }
                        });
                    }
                });
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && up != null) {
                queues[0].signalWritable();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e) {
                if (e.state() == IdleState.WRITER_IDLE) {
                    ctx.writeAndFlush(new Heartbeat(System.nanoTime()), ctx.voidPromise());
                } else if (e.state() == IdleState.READER_IDLE) {
                    log.warn("the bus has been silent for {} ms ({} missed heartbeats); reconnecting",
                            config.liveness().deadline().toMillis(), config.liveness().misses());
                    ctx.close();
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            channel = null;
            goDown("bus connection lost", null);
            retryLater();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("bus connection error: {}; reconnecting", cause.toString());
            ctx.close();
        }

        /**
         * The link went down. If it was up and the connection stays ({@code retrainOn}), this end trains again once
         * every queue has heard it on its own thread: from then on no queue reads or writes a DMA slot or ring of
         * the old epoch, and the simulator brings the new epoch up only after both ends trained again (see Link),
         * so the peer never gets a slot of the new epoch that this end still reads or writes for the old one.
         */
        private void goDown(String reason, Channel retrainOn) {
            boolean wasUp = up != null;
            up = null;
            credits = 0;
            dropReceiveRing();
            if (wasUp) {
                log.warn("link down: {}", reason);
            } else {
                log.info("link not up: {}", reason);
            }
            java.util.concurrent.atomic.AtomicInteger left = new java.util.concurrent.atomic.AtomicInteger(queues.length);
            eachQueue(q -> {
                q.linkDown(reason);
                if (left.decrementAndGet() == 0 && wasUp && retrainOn != null) {
                    queues[0].eventLoop().execute(() -> {
                        if (retrainOn == channel && retrainOn.isActive() && up == null) {
                            retrainOn.writeAndFlush(train(), retrainOn.voidPromise());
                        }
                    });
                }
            });
        }
    }

    /**
     * Something from the bus or a peer's direct ring that this end refused: counted by kind in this process (the
     * count a hostile peer cannot reach, unlike a shared ring's own counter), logged at most once a second.
     */
    void refused(FrameFault fault) {
        refusals.get(fault.kind()).increment();
        long now = System.nanoTime();
        if (now - lastRefusalLog > 1_000_000_000L) {
            lastRefusalLog = now;
            log.warn("refused from the bus: {} (counted in cardnet_tun_bus_refused_total)", fault);
        }
    }

    /** What this end refused from the bus or its peer's direct rings, of one kind, since it started. */
    public long refusals(FrameFault.Kind kind) {
        return refusals.get(kind).sum();
    }

    private final java.util.Map<FrameFault.Kind, LongAdder> refusals = newRefusals();

    private static java.util.Map<FrameFault.Kind, LongAdder> newRefusals() {
        java.util.Map<FrameFault.Kind, LongAdder> m = new java.util.EnumMap<>(FrameFault.Kind.class);
        for (FrameFault.Kind k : FrameFault.Kind.values()) {
            m.put(k, new LongAdder());
        }
        return m;
    }

    private volatile long lastRefusalLog;

    private void dropReceiveRing() {
        receiveRing.forEach(Data::release);
        receiveRing.clear();
    }
}
