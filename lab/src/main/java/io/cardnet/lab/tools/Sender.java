package io.cardnet.lab.tools;

import io.cardnet.card.services.SinkService;
import io.cardnet.card.services.TransferReport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Sends N bytes to a sink over TCP, hashing what it sends, then half-closes and compares the sink's
 * {@link TransferReport} with its own count and SHA-256.
 */
public final class Sender {
    private static final int PATTERN = 4 << 20;

    private Sender() {
    }

    /** The outcome; {@code match} is true when both ends saw the same bytes. */
    public record Result(String target, long bytes, double seconds, double gbps, String sha256, TransferReport sink,
                         boolean match) {
    }

    public static Result send(InetSocketAddress to, long size, LongConsumer progress) throws IOException {
        byte[] pattern = new byte[PATTERN];
        new SplittableRandom(size).nextBytes(pattern);
        ByteBuffer direct = ByteBuffer.allocateDirect(PATTERN).put(pattern).flip();
        MessageDigest sha = SinkService.sha256();
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
                while (sent < size) {
                    int chunk = (int) Math.min(PATTERN, size - sent);
                    ByteBuffer b = direct.duplicate().limit(chunk);
                    while (b.hasRemaining()) {
                        ch.write(b);
                    }
                    sha.update(pattern, 0, chunk);
                    sent += chunk;
                    watch.moved(sent);
                    progress.accept(sent);
                }
                TransferReport sink = TransferReport.awaitFrom(ch, to, sent);
                double seconds = (System.nanoTime() - start) / 1e9;
                String mine = java.util.HexFormat.of().formatHex(sha.digest());
                boolean match = sink.bytes() == sent && sink.sha256().equals(mine);
                return new Result(to.getHostString() + ":" + to.getPort(), sent, seconds, sent * 8 / seconds / 1e9, mine,
                        sink, match);
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("the transfer to " + to + " made no progress for " + StallWatch.STALL.toSeconds()
                        + " s after " + sent + " of " + size + " bytes (link down? `cardnet lab status`)", e);
            }
        }
    }
}
