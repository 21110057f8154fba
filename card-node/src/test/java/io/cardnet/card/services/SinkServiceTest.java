package io.cardnet.card.services;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sink's exchange over a real TCP connection on loopback (no root needed): both checks agree between the ends
 * for the same bytes, and a single changed byte makes them disagree.
 */
class SinkServiceTest {
    private static final int SIZE = 3 << 20;

    @ParameterizedTest
    @EnumSource(IntegrityCheck.class)
    void bothEndsAgreeOnTheSameBytes(IntegrityCheck check) throws Exception {
        byte[] payload = payload();
        TransferReport sink = transfer(check, payload);
        assertEquals(check, sink.check());
        assertTrue(sink.agrees(SIZE, check, check.of(payload)), sink + " vs " + check.of(payload));
    }

    @ParameterizedTest
    @EnumSource(IntegrityCheck.class)
    void aChangedByteOnTheWayIsCaught(IntegrityCheck check) throws Exception {
        byte[] sent = payload();
        String sendersValue = check.of(sent);
        byte[] arrived = sent.clone();
        arrived[SIZE / 2 + 17] ^= 0x01; // what a corrupting path would deliver
        TransferReport sink = transfer(check, arrived);
        assertEquals(SIZE, sink.bytes());
        assertNotEquals(sendersValue, sink.value());
        assertFalse(sink.agrees(SIZE, check, sendersValue));
    }

    @Test
    void aStreamWithoutARequestIsAllPayloadUnderTheSinksDefault() throws Exception {
        byte[] payload = payload();
        TransferReport sink = transfer(null, payload);
        assertEquals(IntegrityCheck.CRC32C, sink.check());
        assertTrue(sink.agrees(SIZE, IntegrityCheck.CRC32C, IntegrityCheck.CRC32C.of(payload)));

        byte[] likeARequest = "CARDNET-SINK".getBytes(StandardCharsets.US_ASCII); // the prefix, cut short
        TransferReport shortOne = transfer(null, likeARequest);
        assertEquals(likeARequest.length, shortOne.bytes());
        assertEquals(IntegrityCheck.CRC32C.of(likeARequest), shortOne.value());
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 7, 64})
    void aRequestSplitAcrossReadsIsStillARequestAndNoPayloadIsLost(int bytesPerRead) throws IOException {
        byte[] line = bytes(SinkRequest.line(IntegrityCheck.SHA256));
        byte[] stream = new byte[line.length + 5];
        System.arraycopy(line, 0, stream, 0, line.length);
        System.arraycopy(new byte[]{1, 2, 3, 4, 5}, 0, stream, line.length, 5);
        ReadableByteChannel in = trickle(stream, bytesPerRead);
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 10);
        assertEquals(IntegrityCheck.SHA256, SinkRequest.read(in, buf, IntegrityCheck.CRC32C));
        while (in.read(buf) >= 0) {
            // the sink goes on reading into the same buffer
        }
        byte[] payload = new byte[buf.flip().remaining()];
        buf.get(payload);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[]{1, 2, 3, 4, 5}, payload);
    }

    @Test
    void anUnknownCheckIsRefusedByName() {
        byte[] stream = "CARDNET-SINK verify=md5\n".getBytes(StandardCharsets.US_ASCII);
        IOException e = assertThrows(IOException.class,
                () -> SinkRequest.read(trickle(stream, 1), ByteBuffer.allocate(256), IntegrityCheck.CRC32C));
        assertTrue(e.getMessage().contains("md5"), e.getMessage());
    }

    @Test
    void reportsReadBothTheirFormats() {
        String sha = "8452027d20c08abe55902b2a5d7b56230b613cd55f671c74590eea59881546de";
        TransferReport old = TransferReport.parse("{\"bytes\":42,\"sha256\":\"" + sha + "\"}");
        assertEquals(new TransferReport(42, IntegrityCheck.SHA256, sha), old);
        TransferReport crc = new TransferReport(7, IntegrityCheck.CRC32C, "b4df1530");
        assertEquals(crc, TransferReport.parse(crc.toJsonLine()));
        assertThrows(IllegalArgumentException.class, () -> TransferReport.parse("{\"bytes\":1,\"crc32c\":\"" + sha + "\"}"));
    }

    /** Sends {@code payload} to a sink on loopback, asking for {@code check} (none if null), and returns its report. */
    private static TransferReport transfer(IntegrityCheck check, byte[] payload) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            CompletableFuture<TransferReport> served = CompletableFuture.supplyAsync(() -> {
                try (SocketChannel c = server.accept()) {
                    return SinkService.answer(c, IntegrityCheck.CRC32C, n -> { });
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (SocketChannel ch = SocketChannel.open(server.getLocalAddress())) {
                if (check != null) {
                    SinkRequest.write(ch, check);
                }
                writeAll(ch, ByteBuffer.wrap(payload));
                TransferReport answered = TransferReport.awaitFrom(ch, "loopback", payload.length);
                assertEquals(answered, served.get(10, TimeUnit.SECONDS), "the sink answers what it counted");
                return answered;
            }
        }
    }

    private static void writeAll(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static byte[] payload() {
        byte[] b = new byte[SIZE];
        new SplittableRandom(11).nextBytes(b);
        return b;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    /** A channel that hands out {@code stream} at most {@code bytesPerRead} per read, as a slow network may. */
    private static ReadableByteChannel trickle(byte[] stream, int bytesPerRead) {
        return new ReadableByteChannel() {
            private int next;

            @Override
            public int read(ByteBuffer dst) {
                if (next == stream.length) {
                    return -1;
                }
                int n = Math.min(bytesPerRead, Math.min(dst.remaining(), stream.length - next));
                dst.put(stream, next, n);
                next += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }
}
