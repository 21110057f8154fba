package io.cardnet.link.protocol;

/** The link is down; body is the reason in UTF-8. */
public record LinkDown(String reason) implements Frame {
    @Override
    public FrameType type() {
        return FrameType.LINK_DOWN;
    }
}
