package io.cardnet.link.protocol;

/** Protocol constants shared by both ends and the simulator. */
public final class Protocol {
    /** The one protocol version this build speaks. */
    public static final int VERSION = 1;

    private Protocol() {
    }
}
