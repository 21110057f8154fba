package io.cardnet.lab.tools;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.SinkRequest;
import io.cardnet.card.services.TransferReport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Sends N bytes to a sink over TCP, then half-closes and compares the sink's {@link TransferReport} with its own
 * count and check value.
 *
 * <p>It sends the way {@code iperf3 -Z} does, so that it measures the path and not itself: the bytes are a
 * pseudo-random pattern written once to a file and sent again and again with sendfile(2), which hands the file's
 * pages to the socket without copying them through this process; and its check value is computed over the whole
 * stream before the clock starts, so no hashing runs on the send path (the sink checks what actually arrived).
 */
public final class Sender {
    /** The pattern's length: big enough that a repeat is no shorter than any TCP window, small enough to cache. */
    static final int PATTERN = 4 << 20;

    private Sender() {
    }

    /** The outcome; {@code match} is true when both ends counted the same bytes and the same check value. */
    public record Result(String target, long bytes, double seconds, double gbps, IntegrityCheck check, String value,
                         TransferReport sink, boolean match) {
    }

    public static Result send(InetSocketAddress to, long size, LongConsumer progress) throws IOException {
        return send(to, size, IntegrityCheck.CRC32C, progress);
    }

    public static Result send(InetSocketAddress to, long size, IntegrityCheck check, LongConsumer progress)
            throws IOException {
        byte[] pattern = pattern(size);
        String mine = valueOfStream(pattern, size, check);
        try (FileChannel file = patternFile(pattern)) {
            long start = System.nanoTime();
            try (SocketChannel ch = SocketChannel.open()) {
                try {
                    ch.connect(to);
                } catch (IOException e) {
                    throw new IOException("cannot connect to " + to + ": " + e.getMessage()
                            + " (is the lab up and the sink listening? `cardnet lab status`)", e);
                }
                long sent = 0;
                try (StallWatch watch = StallWatch.on(ch)) {
                    SinkRequest.write(ch, check);
                    while (sent < size) {
                        long offset = sent % PATTERN;
                        sent += file.transferTo(offset, Math.min(PATTERN - offset, size - sent), ch);
                        watch.moved(sent);
                        progress.accept(sent);
                    }
                    TransferReport sink = TransferReport.awaitFrom(ch, to, sent);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    return new Result(to.getHostString() + ":" + to.getPort(), sent, seconds, sent * 8 / seconds / 1e9,
                            check, mine, sink, sink.agrees(sent, check, mine));
                } catch (java.nio.channels.AsynchronousCloseException e) {
                    throw new IOException("the transfer to " + to + " made no progress for " + StallWatch.STALL.toSeconds()
                            + " s after " + sent + " of " + size + " bytes (link down? `cardnet lab status`)", e);
                }
            }
        }
    }

    /** The pattern for a transfer of {@code size} bytes: the same size always sends the same bytes. */
    static byte[] pattern(long size) {
        byte[] pattern = new byte[PATTERN];
        new SplittableRandom(size).nextBytes(pattern);
        return pattern;
    }

    /** The check over the first {@code size} bytes of the pattern repeated: what the sink must report. */
    static String valueOfStream(byte[] pattern, long size, IntegrityCheck check) {
        IntegrityCheck.Running running = check.start();
        for (long done = 0; done < size; done += pattern.length) {
            running.update(pattern, 0, (int) Math.min(pattern.length, size - done));
        }
        return running.value();
    }

    /** The pattern in an unlinked temporary file, open for sendfile(2); it is gone when the channel closes. */
    private static FileChannel patternFile(byte[] pattern) throws IOException {
        Path path = Files.createTempFile("cardnet-send", ".bin");
        try {
            Files.write(path, pattern);
            return FileChannel.open(path, StandardOpenOption.READ);
        } finally {
            Files.deleteIfExists(path);
        }
    }
}
