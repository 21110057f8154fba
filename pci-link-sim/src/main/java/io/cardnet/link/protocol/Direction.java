package io.cardnet.link.protocol;

/** A direction across the bus. */
public enum Direction {
    /** host → card, the root complex posting to the endpoint */
    H2C("h2c"),
    /** card → host */
    C2H("c2h");

    private final String tag;

    Direction(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }

    /** The direction of frames sent by {@code sender}. */
    public static Direction from(Role sender) {
        return sender == Role.ROOT_COMPLEX ? H2C : C2H;
    }
}
