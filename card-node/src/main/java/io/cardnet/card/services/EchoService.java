package io.cardnet.card.services;

import io.cardnet.link.service.SocketService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** The card's echo service: every byte received is sent back (request/response latency across the bus). */
public final class EchoService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EchoService.class);

    private final Counter bytes;
    private SocketService service;

    private EchoService(MeterRegistry registry) {
        this.bytes = Counter.builder("cardnet.card.echo.bytes").baseUnit("bytes")
                .description("bytes echoed by the card").register(registry);
    }

    public static EchoService start(int port, MeterRegistry registry) throws IOException {
        EchoService echo = new EchoService(registry);
        echo.service = SocketService.tcp(port, "echo", echo::serve);
        return echo;
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
        service.close();
    }
}
