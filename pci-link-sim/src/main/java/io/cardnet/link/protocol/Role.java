package io.cardnet.link.protocol;

/** Which end of the link a function sits at. */
public enum Role {
    /** The host's root complex: host-bridge, behind toe0. */
    ROOT_COMPLEX(1, "host", "root complex (host)"),
    /** The card's endpoint: card-node, behind host0. */
    ENDPOINT(2, "card", "endpoint (card)");

    private final int code;
    private final String shortName;
    private final String description;

    Role(int code, String shortName, String description) {
        this.code = code;
        this.shortName = shortName;
        this.description = description;
    }

    public int code() {
        return code;
    }

    /** "host" or "card", as used in metric tags and socket names. */
    public String shortName() {
        return shortName;
    }

    public String description() {
        return description;
    }

    public Role peer() {
        return this == ROOT_COMPLEX ? ENDPOINT : ROOT_COMPLEX;
    }

    public static Role of(int code) {
        for (Role r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        return null;
    }
}
