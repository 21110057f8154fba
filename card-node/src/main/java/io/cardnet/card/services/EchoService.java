package io.cardnet.card.services;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** The card's echo service: every byte received is sent back (request/response latency across the bus). */
public final class EchoService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EchoService.class);

    private final ServerSocketChannel server;
    private final Counter bytes;

    private EchoService(ServerSocketChannel server, MeterRegistry registry) {
        this.server = server;
        this.bytes = Counter.builder("cardnet.card.echo.bytes").baseUnit("bytes")
                .description("bytes echoed by the card").register(registry);
    }

    public static EchoService start(int port, MeterRegistry registry) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        try {
            server.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            server.close();
            throw new IOException("echo cannot listen on port " + port + ": " + e.getMessage(), e);
        }
        EchoService echo = new EchoService(server, registry);
        Thread.ofVirtual().name("echo-accept").start(echo::acceptLoop);
        log.info("echo listening on :{}", port);
        return echo;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel c = server.accept();
                Thread.ofVirtual().name("echo").start(() -> serve(c));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("echo accept failed: {}", e.toString());
                }
            }
        }
    }

    private void serve(SocketChannel c) {
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
        try (c) {
            while (c.read(buf) >= 0) {
                buf.flip();
                int n = buf.remaining();
                while (buf.hasRemaining()) {
                    c.write(buf);
                }
                bytes.increment(n);
                buf.clear();
            }
        } catch (IOException e) {
            log.debug("echo client went away: {}", e.toString());
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
