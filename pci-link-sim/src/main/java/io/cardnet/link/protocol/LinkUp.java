package io.cardnet.link.protocol;

/**
 * The link trained: body {@code u16 version, u16 0, u32 maxPacket, u64 features, u64 epoch}.
 * The epoch counts trainings since the simulator started, so a side can tell a retrain from a repeat.
 */
public record LinkUp(int version, int maxPacket, long features, long epoch) implements Frame {
    public static final int BODY = 24;

    @Override
    public FrameType type() {
        return FrameType.LINK_UP;
    }
}
