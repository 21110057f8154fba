package io.cardnet.link.protocol;

/** Training request: body {@code u16 version, u8 role, u8 0, u32 maxPacket, u64 features}. */
public record Train(int version, Role role, int maxPacket, long features) implements Frame {
    public static final int BODY = 16;

    @Override
    public FrameType type() {
        return FrameType.TRAIN;
    }
}
