package io.cardnet.link.service;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/**
 * A blocking server with a virtual thread per connection: the shape of the card's sink and echo and of the
 * simulator's control socket. The handler owns the connection and closes it.
 */
public final class SocketService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SocketService.class);

    private final ServerSocketChannel server;
    private final String name;

    private SocketService(ServerSocketChannel server, String name) {
        this.server = server;
        this.name = name;
    }

    /** Listens on TCP {@code port} on every address of this namespace; a taken port is reported by name. */
    public static SocketService tcp(int port, String name, Consumer<SocketChannel> handler) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.bind(new java.net.InetSocketAddress(port));
        } catch (IOException e) {
            server.close();
            throw new IOException(name + " cannot listen on port " + port + ": " + e.getMessage(), e);
        }
        log.info("{} listening on :{}", name, port);
        return start(server, name, handler);
    }

    /** Starts accepting on an already bound {@code server}. */
    public static SocketService start(ServerSocketChannel server, String name, Consumer<SocketChannel> handler) {
        SocketService s = new SocketService(server, name);
        Thread.ofVirtual().name(name + "-accept").start(() -> s.acceptLoop(handler));
        return s;
    }

    private void acceptLoop(Consumer<SocketChannel> handler) {
        while (server.isOpen()) {
            try {
                SocketChannel c = server.accept();
                Thread.ofVirtual().name(name).start(() -> handler.accept(c));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("{}: accept failed: {}", name, e.toString());
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
