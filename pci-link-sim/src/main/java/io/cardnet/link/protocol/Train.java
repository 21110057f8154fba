package io.cardnet.link.protocol;

/**
 * Training request: body {@code u16 version, u8 role, u8 queues, u32 maxPacket, u64 features}. {@code queues}: the
 * queue pairs this end can run (its TUN's queues); 0 from an older end means 1.
 */
public record Train(int version, Role role, int maxPacket, long features, int queues) implements Frame {
    public static final int BODY = 16;

    public Train {
        queues = Math.max(1, queues);
    }

    public Train(int version, Role role, int maxPacket, long features) {
        this(version, role, maxPacket, features, 1);
    }

    @Override
    public FrameType type() {
        return FrameType.TRAIN;
    }
}
