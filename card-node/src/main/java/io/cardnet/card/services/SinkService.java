package io.cardnet.card.services;

import io.cardnet.link.service.SocketService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The card's sink: discards what it receives, counting bytes and hashing them; when the sender half-closes
 * it answers with a {@link TransferReport} so the sender can compare both ends' SHA-256.
 */
public final class SinkService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SinkService.class);
    private static final int BUFFER = 1 << 20;

    private SocketService service;
    private final Counter bytes;
    private final Counter transfers;

    private SinkService(MeterRegistry registry) {
        this.bytes = Counter.builder("cardnet.card.sink.bytes").baseUnit("bytes")
                .description("bytes received by the card's sink").register(registry);
        this.transfers = Counter.builder("cardnet.card.sink.transfers")
                .description("transfers completed by the card's sink").register(registry);
    }

    public static SinkService start(int port, MeterRegistry registry) throws IOException {
        SinkService sink = new SinkService(registry);
        sink.service = SocketService.tcp(port, "sink", sink::serve);
        return sink;
    }

    private void serve(SocketChannel c) {
        try (c) {
            TransferReport report = answer(c, bytes::increment);
            transfers.increment();
            log.info("sink: {} bytes from {}, sha256 {}", report.bytes(), c.getRemoteAddress(), report.sha256());
        } catch (IOException e) {
            log.info("sink: a transfer ended early: {}", e.toString());
        }
    }

    /** The sink's whole exchange: reads {@code c} to its end, hashing, then answers with the report line. */
    public static TransferReport answer(SocketChannel c, java.util.function.DoubleConsumer progress) throws IOException {
        TransferReport report = drain(c, progress);
        c.write(ByteBuffer.wrap(report.toJsonLine().getBytes(StandardCharsets.US_ASCII)));
        return report;
    }

    /** Reads {@code c} to its end, hashing; {@code progress} hears each chunk's size. */
    public static TransferReport drain(SocketChannel c, java.util.function.DoubleConsumer progress) throws IOException {
        MessageDigest sha = sha256();
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        long total = 0;
        int n;
        while ((n = c.read(buf)) >= 0) {
            if (n > 0) {
                sha.update(buf.array(), 0, buf.position());
                total += buf.position();
                progress.accept(buf.position());
                buf.clear();
            }
        }
        return TransferReport.of(total, sha.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    @Override
    public void close() throws IOException {
        service.close();
    }
}
