package io.cardnet.link.port;

import io.cardnet.link.protocol.BusTransport;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Heartbeat;
import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Train;
import io.cardnet.link.protocol.TrainReject;
import io.netty.bootstrap.Bootstrap;
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

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An end's attachment to the bus, the driver's view of the device: connects to its simulator port, trains,
 * keeps the heartbeat, and reconnects and retrains for as long as it runs.
 *
 * <p>Transmit: each descriptor takes a credit (a free ring slot) and gets the next sequence number;
 * {@link #flush} rings the doorbell for everything written since the last one. With no credits left the
 * producer waits ({@link #awaitWritable}) until a completion interrupt returns some: a credit stall.
 * Receive: descriptors from the other end wait in the receive ring until an interrupt says to process them,
 * so interrupt coalescing shows up as latency, as on real hardware. The listener hears link up, link down and
 * each processed descriptor, all on the bus thread.
 */
public final class BusPort implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BusPort.class);
    private static final WriteBufferWaterMark RING = new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024);
    /** While the bus stays unreachable, say so again after this long. */
    private static final long REPEAT_NOTICE_NANOS = TimeUnit.SECONDS.toNanos(10);

    /** What an end does with the link's events; called on the bus thread. */
    public interface Listener {
        void linkUp(LinkUp up);

        void linkDown(String reason);

        /** A descriptor from the other end; the listener owns it and must release it. */
        void receive(Data data);
    }

    private final BusPortConfig config;
    private final Listener listener;
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition writable = lock.newCondition();
    private final java.util.ArrayDeque<Data> receiveRing = new java.util.ArrayDeque<>();
    private final java.util.concurrent.atomic.AtomicInteger credits = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong txSequence = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.LongAdder creditStalls = new java.util.concurrent.atomic.LongAdder();
    private long doorbellRungAt;
    private volatile Channel channel;
    private volatile LinkUp up;
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
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, RING)
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

    /** The link's negotiated parameters while it is up, else null. */
    public LinkUp link() {
        return up;
    }

    public boolean isUp() {
        return up != null;
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

    /**
     * Posts a descriptor toward the other end (one producer thread): stamps the epoch and the next sequence
     * number and spends a credit. False if the link is not up; call only when {@link #isWritable()}.
     */
    public boolean write(Data data) {
        Channel ch = channel;
        LinkUp link = up;
        if (ch == null || link == null) {
            return false;
        }
        credits.decrementAndGet();
        data.epoch(link.epoch());
        data.sequence(txSequence.incrementAndGet());
        ch.write(data, ch.voidPromise());
        return true;
    }

    /** Rings the doorbell for the descriptors written since the last one, and sends everything. */
    public void flush() {
        Channel ch = channel;
        LinkUp link = up;
        if (ch == null) {
            return;
        }
        long tail = txSequence.get();
        if (link != null && tail != doorbellRungAt) {
            doorbellRungAt = tail;
            ch.write(new Doorbell(tail, link.epoch()), ch.voidPromise());
        }
        ch.flush();
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
        lock.lock();
        try {
            writable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void dropReceiveRing() {
        receiveRing.forEach(Data::release);
        receiveRing.clear();
    }

    @Override
    public void close() {
        closed = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** The pipeline's last handler: training, link events, heartbeats, descriptors. */
    private final class EndHandler extends ChannelInboundHandlerAdapter {
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
                case Interrupt irq -> {
                    while (!receiveRing.isEmpty() && receiveRing.peekFirst().sequence() <= irq.rxUpTo()) {
                        listener.receive(receiveRing.pollFirst());
                    }
                    if (irq.credits() > 0 && up != null) {
                        credits.addAndGet(irq.credits());
                        signalWritable();
                    }
                }
                case LinkUp linkUp -> {
                    log.info("link up: epoch {}, max packet {}, ring {}, features {}", linkUp.epoch(),
                            linkUp.maxPacket(), linkUp.ringDepth(),
                            io.cardnet.link.protocol.Features.describe(linkUp.features()));
                    dropReceiveRing();
                    txSequence.set(0);
                    doorbellRungAt = 0;
                    credits.set(linkUp.ringDepth());
                    up = linkUp;
                    listener.linkUp(linkUp);
                    signalWritable();
                }
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

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
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
}
