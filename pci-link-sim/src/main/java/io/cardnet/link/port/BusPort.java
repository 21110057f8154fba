package io.cardnet.link.port;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.BusTransport;
import io.cardnet.link.protocol.Data;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An end's attachment to the bus, the driver's view of the device: connects to its simulator port, trains,
 * keeps the heartbeat, and reconnects and retrains for as long as it runs.
 *
 * <p>Transmit ({@link #nextBuffer}, {@link #post}, {@link #flush}): each descriptor takes a credit (a free ring
 * slot) and the next sequence number; a flush rings the doorbell for everything posted since the last one.
 * With shared memory the packet is read straight into the DMA slot of its sequence and only a 24-byte
 * {@code DESC} crosses the socket; otherwise the whole DATA frame does. With no credit left the producer waits
 * ({@link #awaitWritable}): a credit stall.
 *
 * <p>Receive: descriptors wait in the receive ring until an interrupt says to process them (so coalescing shows
 * up as latency, as behind NAPI); after each batch an {@code RX_DONE} tells the simulator the buffers are free,
 * which is what returns the producer's credits. The listener hears link up, link down and each processed
 * descriptor, all on the bus thread.
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
    private final Listener listener;
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writable = lock.newCondition();
    private final ArrayDeque<Data> receiveRing = new ArrayDeque<>();
    private final AtomicInteger credits = new AtomicInteger();
    private final AtomicLong txSequence = new AtomicLong();
    private final LongAdder creditStalls = new LongAdder();
    private DmaRegion txRegion;
    private DmaRegion rxRegion;
    private long doorbellRungAt;
    /** Frames posted by the producer thread since its last flush; handed to the bus thread in one task. */
    private java.util.List<Object> pending = new java.util.ArrayList<>();
    private volatile Channel channel;
    private volatile LinkUp up;
    private volatile boolean shared;
    private volatile boolean closed;
    private long lastNotice;
    private String lastProblem = "";

    public BusPort(BusPortConfig config, Listener listener) {
        this.config = config;
        this.listener = listener;
        this.group = BusTransport.newGroup(1, "bus-" + config.role().shortName());
        long idle = config.liveness().interval().toMillis();
        long dead = config.liveness().deadline().toMillis();
        this.bootstrap = new Bootstrap().group(group)
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

    /** True while the link is up, this end holds a credit, and the socket takes more. */
    public boolean isWritable() {
        Channel ch = channel;
        return ch != null && ch.isWritable() && credits.get() > 0;
    }

    /** Free ring slots this end may still post into. */
    public int credits() {
        return credits.get();
    }

    /** Times the producer found no credit and had to wait. */
    public long creditStalls() {
        return creditStalls.sum();
    }

    // ------------------------------------------------------------------ transmit (one producer thread)

    /**
     * Where to read the next packet (at {@link Data#VNET_OFFSET}): the DMA slot of the next sequence when the
     * link shares memory, else a buffer from {@code alloc}. Call when {@link #isWritable()}.
     */
    public TxBuffer nextBuffer(ByteBufAllocator alloc) {
        LinkUp link = up;
        if (link != null && shared) {
            long seq = txSequence.get() + 1;
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
        Channel ch = channel;
        LinkUp link = up;
        if (ch == null || link == null || (tx.shared() && (tx.epoch() != link.epoch() || !shared))) {
            return false;
        }
        long seq = txSequence.incrementAndGet();
        if (tx.shared() && seq != tx.sequence()) {
            txSequence.decrementAndGet();
            return false;
        }
        credits.decrementAndGet();
        data.epoch(link.epoch());
        data.sequence(seq);
        if (tx.shared()) {
            pending.add(new Desc(seq, tx.slot(), data.content().writerIndex(), (int) link.epoch() & 0xffff));
        } else {
            pending.add(data);
        }
        return true;
    }

    /**
     * Rings the doorbell for the descriptors posted since the last one, and sends everything: the posted frames
     * and the doorbell go to the bus thread as one task, not one cross-thread hand-off per packet.
     */
    public void flush() {
        Channel ch = channel;
        LinkUp link = up;
        java.util.List<Object> batch = pending;
        if (ch == null) {
            batch.forEach(ReferenceCountUtil::release);
            batch.clear();
            return;
        }
        long tail = txSequence.get();
        if (link != null && tail != doorbellRungAt) {
            doorbellRungAt = tail;
            batch.add(new Doorbell(tail, link.epoch()));
        }
        if (batch.isEmpty()) {
            return;
        }
        if (ch.eventLoop().inEventLoop()) {
            // The producer is the bus thread itself (a TUN in its epoll set): write now, no hand-off.
            for (Object frame : batch) {
                ch.write(frame, ch.voidPromise());
            }
            batch.clear();
            ch.flush();
            return;
        }
        pending = new java.util.ArrayList<>(batch.size() + 2);
        ch.eventLoop().execute(() -> {
            for (Object frame : batch) {
                ch.write(frame, ch.voidPromise());
            }
            ch.flush();
        });
    }

    /** The bus thread: everything the listener hears runs here, and a producer may run here too. */
    public io.netty.channel.IoEventLoop eventLoop() {
        return (io.netty.channel.IoEventLoop) group.next();
    }

    /** Waits up to {@code millis} for a credit and socket room (a full ring back-pressures the producer). */
    public void awaitWritable(long millis) throws InterruptedException {
        if (credits.get() <= 0) {
            creditStalls.increment();
        }
        lock.lock();
        try {
            if (!isWritable() && up != null) {
                writable.await(millis, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private void signalWritable() {
        listener.writable();
        lock.lock();
        try {
            writable.signalAll();
        } finally {
            lock.unlock();
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
        if (txRegion != null) {
            txRegion.close();
            rxRegion.close();
        }
    }

    /** The pipeline's last handler: training, link events, heartbeats, descriptors. */
    private final class EndHandler extends ChannelInboundHandlerAdapter {
        private long processedUpTo;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            lastProblem = "";
            log.info("attached to the bus at {}; training as {}", config.address(), config.role().description());
            ctx.writeAndFlush(new Train(Protocol.VERSION, config.role(), Data.MAX_PACKET, config.features()));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case Data data -> {
                    if (up == null) {
                        data.release();
                    } else {
                        receiveRing.addLast(data);
                    }
                }
                case Desc desc -> {
                    if (up != null && shared && desc.epoch() == ((int) up.epoch() & 0xffff)) {
                        receiveRing.addLast(new Data(rxRegion.frame(desc.slot(), desc.length())));
                    }
                }
                case Interrupt irq -> interrupt(ctx, irq);
                case LinkUp linkUp -> linkUp(linkUp);
                case LinkDown down -> goDown(down.reason());
                case TrainReject reject -> {
                    problem("the bus refused this end: " + reject.reason());
                    ctx.close();
                }
                case Heartbeat ignored -> {
                    // liveness only
                }
                case FrameFault fault -> log.warn("dropped a malformed frame from the bus: {}", fault);
                default -> ReferenceCountUtil.release(msg);
            }
        }

        /** Processes received descriptors up to the interrupt's mark, frees them, and takes credits back. */
        private void interrupt(ChannelHandlerContext ctx, Interrupt irq) {
            boolean processed = false;
            while (!receiveRing.isEmpty() && receiveRing.peekFirst().sequence() <= irq.rxUpTo()) {
                Data d = receiveRing.pollFirst();
                processedUpTo = d.sequence();
                listener.receive(d);
                processed = true;
            }
            LinkUp link = up;
            if (processed && link != null) {
                ctx.write(new RxDone(processedUpTo, link.epoch()), ctx.voidPromise());
                listener.received();
                ctx.flush();
            }
            if (irq.credits() > 0 && link != null) {
                credits.addAndGet(irq.credits());
                signalWritable();
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
            txSequence.set(0);
            doorbellRungAt = 0;
            credits.set(linkUp.ringDepth());
            up = linkUp;
            listener.linkUp(linkUp);
            signalWritable();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                signalWritable();
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
            goDown("bus connection lost");
            retryLater();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("bus connection error: {}; reconnecting", cause.toString());
            ctx.close();
        }

        private void goDown(String reason) {
            boolean wasUp = up != null;
            up = null;
            credits.set(0);
            dropReceiveRing();
            if (wasUp) {
                log.warn("link down: {}", reason);
            } else {
                log.info("link not up: {}", reason);
            }
            listener.linkDown(reason);
            signalWritable();
        }
    }

    private void dropReceiveRing() {
        receiveRing.forEach(Data::release);
        receiveRing.clear();
    }
}
