package io.cardnet.card.relay;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The card's TCP relay, the "TOE" of the design: host applications' connections toward the wire end on the card
 * (host ⇄ card at the bus's 64K MSS, checksums trusted) and continue from the card's own TCP stack (card ⇄ wire at
 * the wire's MSS, the card's kernel doing the checksums and the segmentation).
 *
 * <p>The listener is transparent (IP_TRANSPARENT): nftables' tproxy ({@link RelayInterception}) hands it connections
 * to any address, and an accepted connection's local address is the host's original destination. The onward
 * connection is transparent too, bound to the host's address (port chosen by the card), so the wire peer sees the
 * host as the source and answers through the card, as it does for routed traffic.
 *
 * <p>The kernel completes the host's handshake before the relay hears of it, so the host's connect() succeeds
 * before the card knows whether the wire peer will answer: a refused onward connection resets the host's (its next
 * read or write fails with ECONNRESET, at once, never a hang). A card holding {@link RelayConfig#maxConnections()}
 * resets a new connection the same way and counts it.
 */
public final class TcpRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);
    /** How long the onward connect may take before the host's connection is reset (the kernel's own SYN retries are longer). */
    private static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    private final RelayConfig config;
    private final RelayCounters counters;
    private final EventLoopGroup group;
    private final RelayInterception interception;
    private final Channel listener;

    private TcpRelay(RelayConfig config, RelayCounters counters, EventLoopGroup group, RelayInterception interception,
                     Channel listener) {
        this.config = config;
        this.counters = counters;
        this.group = group;
        this.interception = interception;
        this.listener = listener;
    }

    public static TcpRelay start(RelayConfig config, MeterRegistry registry) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("relay: Netty's epoll transport is unavailable (" + Epoll.unavailabilityCause()
                    + "); the relay needs it for IP_TRANSPARENT");
        }
        RelayCounters counters = new RelayCounters(registry);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "tcp-relay");
            t.setDaemon(true);
            return t;
        }, EpollIoHandler.newFactory());
        RelayInterception interception = null;
        try {
            Channel listener = listen(group, new InetSocketAddress(config.port()), true,
                    new Acceptor(config, counters, TcpRelay::transparentOnward));
            interception = RelayInterception.install(config);
            log.info("relay: listening transparently on :{}, at most {} connections, bytes moved by {}", config.port(),
                    config.maxConnections(), config.move().option());
            return new TcpRelay(config, counters, group, interception, listener);
        } catch (IOException | RuntimeException e) {
            if (interception != null) {
                interception.close();
            }
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS).syncUninterruptibly();
            throw e instanceof IOException io ? io : new IOException("relay: cannot listen on :" + config.port() + ": " + e, e);
        }
    }

    /**
     * The relay's listener: accepted connections do not read until their onward twin is up, and carry half-closes.
     * Transparent (IP_TRANSPARENT) on the card, where tproxy hands it connections to any address.
     */
    static Channel listen(EventLoopGroup group, InetSocketAddress at, boolean transparent, Acceptor acceptor) {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(acceptor);
        if (transparent) {
            b.option(EpollChannelOption.IP_TRANSPARENT, true);
        }
        return b.bind(at).syncUninterruptibly().channel();
    }

    /**
     * The onward connection of a tproxied host connection: to the host's original destination (the accepted
     * connection's local address), from the host's address (a port of the card's choosing), so the wire sees the
     * host as the source.
     */
    private static ChannelFuture transparentOnward(Channel host, Bootstrap b) {
        InetSocketAddress destination = (InetSocketAddress) host.localAddress();
        InetSocketAddress source = (InetSocketAddress) host.remoteAddress();
        return b.option(EpollChannelOption.IP_TRANSPARENT, true)
                .connect(destination, new InetSocketAddress(source.getAddress(), 0));
    }

    /** How an accepted host connection's onward twin is connected, given a bootstrap with the relay's options. */
    interface Onward {
        ChannelFuture connect(Channel host, Bootstrap b);
    }

    /** Each accepted host connection: refused if the card is full, else continued toward its original destination. */
    @ChannelHandler.Sharable
    static final class Acceptor extends ChannelInboundHandlerAdapter {
        private final RelayConfig config;
        private final RelayCounters counters;
        private final Onward onward;

        Acceptor(RelayConfig config, RelayCounters counters, Onward onward) {
            this.config = config;
            this.counters = counters;
            this.onward = onward;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel host = ctx.channel();
            ctx.pipeline().remove(this);
            if (counters.open.incrementAndGet() > config.maxConnections()) {
                counters.open.decrementAndGet();
                counters.refusedFull.increment();
                log.info("relay: refused {} → {}: {} connections open already (--relay-max-connections)",
                        host.remoteAddress(), host.localAddress(), config.maxConnections());
                RelayedConnection.reset(host);
                return;
            }
            RelayedConnection pair = new RelayedConnection(host, counters, config.move(), new Release(counters));
            ChannelFuture connecting = onward.connect(host, new Bootstrap().group(host.eventLoop())
                    .channel(EpollSocketChannel.class)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
                    .handler(new ChannelInboundHandlerAdapter()));
            connecting.addListener((ChannelFutureListener) f -> {
                if (f.isSuccess() && host.isActive()) {
                    counters.total.increment();
                    pair.join(f.channel());
                } else {
                    if (!f.isSuccess()) {
                        counters.refusedOnward.increment();
                        log.info("relay: {} → {} reset: the onward connection failed: {}", host.remoteAddress(),
                                host.localAddress(), f.cause().toString());
                    }
                    f.channel().close();
                    pair.abandon();
                }
            });
        }
    }

    /**
     * Frees a connection's slot among the open ones, once: when its host channel closes, or, spliced, when the
     * {@link SplicedConnection} ends (the Netty channel closed long before). Called on the event loop only.
     */
    private static final class Release implements Runnable {
        private final RelayCounters counters;
        private boolean done;

        Release(RelayCounters counters) {
            this.counters = counters;
        }

        @Override
        public void run() {
            if (!done) {
                done = true;
                counters.open.decrementAndGet();
            }
        }
    }

    public int port() {
        return config.port();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        interception.close();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
