package io.cardnet.card.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.cardnet.netdev.NetdevException;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One host connection and its onward twin, joined: what one side sends, the other writes, with back-pressure (a side
 * whose peer cannot take more stops reading). An end of stream is passed on as a half-close (shutdown of the peer's
 * output once what came before is written); the pair closes when both ways have ended. A reset, or any error, on
 * one side resets the other (SO_LINGER 0), so the host application sees what it would see without the card.
 *
 * <p>Until the onward connection is up the host's connection is Netty's. Then the bytes move the way the relay was
 * told ({@link RelayMove}): by splice(2), the pair handed to a {@link SplicedConnection}, or copied through Netty's
 * buffers by the two {@link Side} handlers here.
 */
final class RelayedConnection {
    private static final Logger log = LoggerFactory.getLogger(RelayedConnection.class);

    private final Channel host;
    private final RelayCounters counters;
    private final RelayMove move;
    private final Runnable release;
    private Channel wire;
    private boolean finished;
    /** The sockets went to a {@link SplicedConnection}: the Netty channels' closing is not the connection's end. */
    private boolean handedOver;

    private final Early early = new Early();

    /** {@code release} runs once, when the connection is gone (its slot among --relay-max-connections is free). */
    RelayedConnection(Channel host, RelayCounters counters, RelayMove move, Runnable release) {
        this.host = host;
        this.counters = counters;
        this.move = move;
        host.pipeline().addLast(early);
        host.closeFuture().addListener(f -> {
            if (!handedOver) {
                release.run();
            }
        });
        this.release = release;
    }

    /** The onward connection is up: start moving bytes both ways. Runs on the pair's event loop. */
    void join(Channel wire) {
        this.wire = wire;
        host.pipeline().remove(early);
        if (move == RelayMove.SPLICE) {
            splice();
            return;
        }
        host.pipeline().addLast(new Side(wire, counters.fromHost));
        wire.pipeline().addLast(new Side(host, counters.fromWire));
        early.replay(host);
        reading(host, true);
        reading(wire, true);
    }

    private void splice() {
        MemorySegment held = early.take();
        try {
            handedOver = true;
            SplicedConnection.takeOver(host, wire, held, counters, release);
        } catch (NetdevException | RuntimeException e) {
            handedOver = false;
            resetBoth("cannot splice: " + e.getMessage());
        }
    }

    /**
     * What the host sent before the onward connection was up. Reading is off until then, but epoll still reads when
     * the host's FIN arrives (EPOLLRDHUP): a short request and its FIN, sent right after connect(), land here and are
     * passed on at {@link #join}, in order.
     */
    private static final class Early extends ChannelInboundHandlerAdapter {
        private final java.util.List<Object> held = new java.util.ArrayList<>();
        private boolean ended;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            held.add(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ended = true;
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (!ctx.channel().isActive()) {
                held.forEach(ReferenceCountUtil::release);
                held.clear();
            }
        }

        /**
         * The held bytes, copied into native memory for the pipe (null if none), and released. The end of stream
         * needs no passing on: Netty shut the socket's input down at the FIN, and splice(2) then reads 0, the end.
         */
        MemorySegment take() {
            long size = held.stream().mapToLong(m -> m instanceof ByteBuf b ? b.readableBytes() : 0).sum();
            MemorySegment bytes = size == 0 ? null : Arena.ofAuto().allocate(size);
            long at = 0;
            for (Object m : held) {
                if (m instanceof ByteBuf b) {
                    int n = b.readableBytes();
                    b.getBytes(b.readerIndex(), bytes.asSlice(at, n).asByteBuffer());
                    at += n;
                }
                ReferenceCountUtil.release(m);
            }
            held.clear();
            return bytes;
        }

        void replay(Channel c) {
            held.forEach(c.pipeline()::fireChannelRead);
            held.clear();
            c.pipeline().fireChannelReadComplete();
            if (ended) {
                c.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
            }
        }
    }

    /** The onward connection failed: what the host sent early is dropped and its connection reset. */
    void abandon() {
        early.held.forEach(ReferenceCountUtil::release);
        early.held.clear();
        reset(host);
    }

    /** Resets a connection: with SO_LINGER 0, close sends a RST instead of a FIN. */
    static void reset(Channel c) {
        if (c.isOpen()) {
            c.config().setOption(ChannelOption.SO_LINGER, 0);
            c.close();
        }
    }

    private void resetBoth(String why) {
        if (finished) {
            return;
        }
        finished = true;
        counters.resets.increment();
        log.info("relay {} → {}: reset ({})", host.remoteAddress(), host.localAddress(), why);
        reset(host);
        reset(wire);
    }

    private void closeIfBothEnded() {
        if (!finished && ended(host) && ended(wire)) {
            finished = true;
            host.close();
            wire.close();
        }
    }

    /**
     * Turns reading on or off, unless the channel can no longer read: epoll refuses to change the interest of a
     * descriptor whose input has ended (epoll_ctl: ENOENT), and there is nothing left to read there anyway.
     */
    private static void reading(Channel c, boolean on) {
        if (c.isActive() && !(c instanceof DuplexChannel d && d.isInputShutdown())) {
            c.config().setAutoRead(on);
        }
    }

    private static boolean ended(Channel c) {
        return c instanceof DuplexChannel d && d.isInputShutdown() && d.isOutputShutdown();
    }

    /** One direction: reads on its channel are written to {@code peer}. */
    private final class Side extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final Counter bytes;

        Side(Channel peer, Counter bytes) {
            this.peer = peer;
            this.bytes = bytes;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b) || finished) {
                ReferenceCountUtil.release(msg);
                return;
            }
            int n = b.readableBytes();
            bytes.increment(n);
            counters.copied.increment(n);
            peer.write(b, peer.voidPromise());
            if (!peer.isWritable()) {
                reading(ctx.channel(), false); // the peer's writability change turns it back on
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                reading(peer, true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && peer instanceof DuplexChannel d) {
                // A FIN from this side: the peer gets one too, after the bytes that came before it.
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        d.shutdownOutput().addListener(x -> closeIfBothEnded());
                    } else {
                        resetBoth("write after end of stream failed: " + f.cause());
                    }
                });
                closeIfBothEnded();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            resetBoth("a side closed before both ways ended");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            resetBoth(cause.toString());
        }
    }
}
