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

/**
 * The card's sink: discards what it receives, counting bytes and checking them with the {@link IntegrityCheck} the
 * sender asked for ({@link SinkRequest}; CRC32C by default); when the sender half-closes it answers with a
 * {@link TransferReport} so the sender can compare both ends' values.
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
            TransferReport report = answer(c, IntegrityCheck.CRC32C, bytes::increment);
            transfers.increment();
            log.info("sink: {} from {}", report, c.getRemoteAddress());
        } catch (IOException e) {
            log.info("sink: a transfer ended early: {}", e.toString());
        }
    }

    /**
     * The sink's whole exchange: reads {@code c} to its end, checking, then answers with the report line.
     * {@code unasked} is the check for a sender that does not ask for one (see {@link SinkRequest}).
     */
    public static TransferReport answer(SocketChannel c, IntegrityCheck unasked, java.util.function.DoubleConsumer progress)
            throws IOException {
        TransferReport report = drain(c, unasked, progress);
        c.write(ByteBuffer.wrap(report.toJsonLine().getBytes(StandardCharsets.US_ASCII)));
        return report;
    }

    /**
     * Reads {@code c} to its end, checking every byte; {@code progress} hears each chunk's size. The buffer is
     * direct so the socket reads straight into it (a heap buffer costs the JDK one more copy per read) and CRC32C
     * runs its intrinsic over it in place: the check then costs a small fraction of the read itself.
     */
    public static TransferReport drain(SocketChannel c, IntegrityCheck unasked, java.util.function.DoubleConsumer progress)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER);
        IntegrityCheck check = SinkRequest.read(c, buf, unasked);
        IntegrityCheck.Running running = check.start();
        long total = 0;
        do {
            if (buf.position() > 0) {
                int n = buf.flip().remaining();
                running.update(buf);
                total += n;
                progress.accept(n);
                buf.clear();
            }
        } while (c.read(buf) >= 0);
        return new TransferReport(total, check, running.value());
    }

    @Override
    public void close() throws IOException {
        service.close();
    }
}
