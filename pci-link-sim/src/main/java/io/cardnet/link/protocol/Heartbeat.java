package io.cardnet.link.protocol;

/** Liveness when idle; body {@code u64 sender's monotonic nanos} (for logs, not for clocks). */
public record Heartbeat(long senderNanos) implements Frame {
    public static final int BODY = 8;

    @Override
    public FrameType type() {
        return FrameType.HEARTBEAT;
    }
}
