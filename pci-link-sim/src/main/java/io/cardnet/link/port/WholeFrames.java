package io.cardnet.link.port;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * Cuts a byte stream of bus frames into whole frames ({@code u32} little-endian length of what follows, as
 * {@link io.cardnet.link.protocol.FrameDecoder} reads them), whatever sizes the stream arrives in. The
 * {@link VirtioPortBridge} forwards only whole frames, so a connection that ends mid-frame leaves nothing half-sent.
 */
final class WholeFrames {
    /** The stream's length fields no longer make sense: its frame boundaries are lost. */
    static final class LostBoundaries extends Exception {
        LostBoundaries(String message) {
            super(message);
        }
    }

    private final int maxFrame;
    private final ByteBuffer pending;

    /** @param maxFrame the largest length field taken for a frame */
    WholeFrames(int maxFrame) {
        this.maxFrame = maxFrame;
        this.pending = ByteBuffer.allocate(2 * (maxFrame + 4)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Takes {@code bytes} (all of them, up to one frame's worth at a time) and hands each frame completed by them to
     * {@code frame}: a view, length field included, valid only during the call. On {@link LostBoundaries} what was
     * buffered is dropped.
     */
    void feed(ByteBuffer bytes, Consumer<ByteBuffer> frame) throws LostBoundaries {
        while (bytes.hasRemaining()) {
            int n = Math.min(bytes.remaining(), pending.remaining());
            pending.put(bytes.slice(bytes.position(), n));
            bytes.position(bytes.position() + n);
            pending.flip();
            while (pending.remaining() >= 4) {
                int length = pending.getInt(pending.position());
                if (length < 0 || length > maxFrame) {
                    pending.clear();
                    throw new LostBoundaries("a frame of " + (length & 0xffffffffL) + " bytes (at most " + maxFrame
                            + " make sense)");
                }
                if (pending.remaining() < 4 + length) {
                    break;
                }
                frame.accept(pending.slice(pending.position(), 4 + length));
                pending.position(pending.position() + 4 + length);
            }
            pending.compact();
        }
    }

    /** Bytes held of a frame not yet complete. */
    int buffered() {
        return pending.position();
    }

    /** Forgets a partial frame: its stream ended or started over. */
    void reset() {
        pending.clear();
    }
}
