package io.cardnet.link.sim;

/** The link's state as both ends see it; {@link #code} is the value of the {@code cardnet_link_state} gauge. */
public enum LinkState {
    /** neither end is trained */
    DOWN(0),
    /** one end trained, waiting for the other */
    TRAINING(1),
    /** both ends trained; descriptors flow */
    UP(2);

    private final int code;

    LinkState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
