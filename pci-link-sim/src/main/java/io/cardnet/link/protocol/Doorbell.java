package io.cardnet.link.protocol;

/**
 * An end → simulator MMIO write: "descriptors up to sequence {@code tail} are posted". The DMA engine
 * moves posted descriptors only; one lost doorbell leaves them waiting for the engine's poll timer.
 * Body {@code u64 tail, u64 epoch}: the epoch makes a doorbell rung before a retrain harmless after it.
 */
public record Doorbell(long tail, long epoch) implements Frame {
    public static final int BODY = 16;

    @Override
    public FrameType type() {
        return FrameType.DOORBELL;
    }
}
