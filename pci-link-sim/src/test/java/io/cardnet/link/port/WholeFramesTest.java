package io.cardnet.link.port;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stream of frames cut into arbitrary pieces comes out as the same whole frames; a broken length is caught. */
class WholeFramesTest {
    private static byte[] frame(int bodyBytes, int fill) {
        ByteBuffer b = ByteBuffer.allocate(4 + bodyBytes).order(ByteOrder.LITTLE_ENDIAN).putInt(bodyBytes);
        for (int i = 0; i < bodyBytes; i++) {
            b.put((byte) (fill + i));
        }
        return b.array();
    }

    @Test
    void framesCutAnywhereComeOutWhole() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        List<byte[]> sent = new ArrayList<>();
        ByteBuffer stream = ByteBuffer.allocate(4 << 20);
        for (int i = 0; i < 400; i++) {
            byte[] f = frame(random.nextInt(i % 50 == 0 ? 65_600 : 64), i);
            sent.add(f);
            stream.put(f);
        }
        stream.flip();
        WholeFrames frames = new WholeFrames(1 << 20);
        List<byte[]> got = new ArrayList<>();
        while (stream.hasRemaining()) {
            int n = Math.min(stream.remaining(), 1 + random.nextInt(random.nextBoolean() ? 7 : 90_000));
            frames.feed(stream.slice(stream.position(), n), f -> {
                byte[] copy = new byte[f.remaining()];
                f.get(copy);
                got.add(copy);
            });
            stream.position(stream.position() + n);
        }
        assertEquals(sent.size(), got.size());
        for (int i = 0; i < sent.size(); i++) {
            assertArrayEquals(sent.get(i), got.get(i), "frame " + i);
        }
        assertEquals(0, frames.buffered());
    }

    @Test
    void aPartialFrameIsHeldUntilCompleteAndDroppedOnReset() throws Exception {
        WholeFrames frames = new WholeFrames(1 << 20);
        byte[] f = frame(100, 1);
        List<ByteBuffer> got = new ArrayList<>();
        frames.feed(ByteBuffer.wrap(f, 0, 50), got::add);
        assertTrue(got.isEmpty());
        assertEquals(50, frames.buffered());
        frames.reset();
        frames.feed(ByteBuffer.wrap(f), got::add);
        assertEquals(1, got.size(), "after a reset the next frame starts clean");
    }

    @Test
    void aLengthBeyondAnyFrameMeansTheBoundariesAreLost() {
        WholeFrames frames = new WholeFrames(1 << 20);
        ByteBuffer garbage = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7fff_0000).putInt(0);
        WholeFrames.LostBoundaries e = assertThrows(WholeFrames.LostBoundaries.class,
                () -> frames.feed(garbage.flip(), f -> { }));
        assertTrue(e.getMessage().contains("2147418112"), e.getMessage());
        assertEquals(0, frames.buffered(), "what was buffered is dropped");
    }
}
