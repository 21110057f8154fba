package io.cardnet.link.protocol;

/**
 * The link trained: body {@code u16 version, u16 queues, u32 maxPacket, u64 features, u64 epoch, u32 ringDepth,
 * u32 0}. The epoch counts trainings since the simulator started, so a side can tell a retrain from a repeat; the
 * ring depth is the number of descriptors an end may have posted and not yet completed on each queue: its credits.
 * {@code queues}: the queue pairs the link runs, each with its own rings, credits and doorbells (0 means 1).
 */
public record LinkUp(int version, int maxPacket, long features, long epoch, int ringDepth, int queues) implements Frame {
    public static final int BODY = 32;

    public LinkUp {
        queues = Math.max(1, queues);
    }

    public LinkUp(int version, int maxPacket, long features, long epoch, int ringDepth) {
        this(version, maxPacket, features, epoch, ringDepth, 1);
    }

    @Override
    public FrameType type() {
        return FrameType.LINK_UP;
    }
}
