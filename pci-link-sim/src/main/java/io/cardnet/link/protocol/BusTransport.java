package io.cardnet.link.protocol;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.SocketAddress;

/** Netty channel types for a {@link BusAddress}: epoll for Unix domain sockets and TCP alike. */
public final class BusTransport {
    private BusTransport() {
    }

    public static EventLoopGroup newGroup(int threads, String name) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("Netty's epoll transport is unavailable (cardnet runs on Linux x86_64): "
                    + Epoll.unavailabilityCause());
        }
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, false),
                EpollIoHandler.newFactory());
    }

    public static Class<? extends ServerChannel> serverChannel(BusAddress address) {
        return address instanceof BusAddress.Unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class;
    }

    public static Class<? extends Channel> clientChannel(BusAddress address) {
        return address instanceof BusAddress.Unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class;
    }

    public static SocketAddress socketAddress(BusAddress address) {
        return switch (address) {
            case BusAddress.Unix u -> new DomainSocketAddress(u.path().toFile());
            case BusAddress.Tcp t -> t.socketAddress();
            case BusAddress.VirtioPort v -> throw new IllegalArgumentException(v
                    + " is a virtio-serial port, not a socket: an end reaches it through VirtioPortBridge");
        };
    }
}
