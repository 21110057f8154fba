package io.cardnet.link.protocol;

/** Training refused; body is the reason in UTF-8. The simulator closes the connection after it. */
public record TrainReject(String reason) implements Frame {
    @Override
    public FrameType type() {
        return FrameType.TRAIN_REJECT;
    }
}
