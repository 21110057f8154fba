package io.cardnet.link.http;

import io.cardnet.link.protocol.BusTransport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * An HTTP/1.1 server on one address and port, on Netty's epoll transport (so file bodies go out by sendfile).
 * Requests carry no body here: the aggregator takes at most 8 KiB and answers anything larger with 413.
 */
public final class HttpFileServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel channel;
    private final io.netty.channel.group.ChannelGroup connections;

    private HttpFileServer(EventLoopGroup group, Channel channel, io.netty.channel.group.ChannelGroup connections) {
        this.group = group;
        this.channel = channel;
        this.connections = connections;
    }

    /** Listens on {@code address}; {@code handler} gives each connection its own handler. */
    public static HttpFileServer start(String name, InetSocketAddress address, int threads,
                                       Supplier<ChannelHandler> handler) throws IOException {
        EventLoopGroup group = BusTransport.newGroup(threads, name);
        // Every open connection, so close() ends them too: a client keeping one alive must see it go.
        var connections = new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
        try {
            Channel ch = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel c) {
                            connections.add(c);
                            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(8192), handler.get());
                        }
                    }).bind(address).sync().channel();
            return new HttpFileServer(group, ch, connections);
        } catch (Exception e) {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IOException(name + " cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
