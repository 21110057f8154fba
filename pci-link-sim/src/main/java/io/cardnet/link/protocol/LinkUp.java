package io.cardnet.link.protocol;

/**
 * The link trained: body {@code u16 version, u16 0, u32 maxPacket, u64 features, u64 epoch, u32 ringDepth, u32 0}.
 * The epoch counts trainings since the simulator started, so a side can tell a retrain from a repeat; the ring
 * depth is the number of descriptors an end may have posted and not yet completed: its credits.
 */
public record LinkUp(int version, int maxPacket, long features, long epoch, int ringDepth) implements Frame {
    public static final int BODY = 32;

    @Override
    public FrameType type() {
        return FrameType.LINK_UP;
    }
}
