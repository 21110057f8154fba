package io.cardnet.link.protocol;

/**
 * A consumer → simulator write: "I have processed my receive ring up to sequence {@code upTo}". Only then are
 * the buffers free, so only then does the producer get its credits back. Body {@code u64 upTo, u64 epoch}.
 */
public record RxDone(long upTo, long epoch) implements Frame {
    public static final int BODY = 16;

    @Override
    public FrameType type() {
        return FrameType.RX_DONE;
    }
}
