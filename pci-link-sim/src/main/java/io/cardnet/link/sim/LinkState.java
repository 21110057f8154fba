package io.cardnet.link.sim;

/** The link's state as both ends see it; {@link #code} is the value of the {@code cardnet_link_state} gauge. */
public enum LinkState {
    /** no end is attached */
    DOWN(0),
    /** an end is attached (detected on its port) but none has trained yet */
    DETECT(1),
    /** one end trained, waiting for the other */
    TRAINING(2),
    /** both ends trained; descriptors flow */
    UP(3);

    private final int code;

    LinkState(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
