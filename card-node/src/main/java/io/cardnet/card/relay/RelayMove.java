package io.cardnet.card.relay;

import java.util.Locale;

/**
 * How the relay moves a connection's bytes from one socket to the other ({@code --relay-move}).
 */
public enum RelayMove {
    /**
     * splice(2), socket → pipe → socket, in the card's kernel: the bytes never enter user space
     * ({@link SplicedConnection}). The default.
     */
    SPLICE,
    /** Read into a buffer in user space and written out (Netty's ordinary path): one copy each way per byte. */
    COPY;

    /** {@code splice} or {@code copy}, as the option is written. */
    public static RelayMove parse(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "splice" -> SPLICE;
            case "copy" -> COPY;
            default -> throw new IllegalArgumentException("--relay-move takes splice or copy, not '" + s + "'");
        };
    }

    /** The option's spelling: {@code splice} or {@code copy}. */
    public String option() {
        return name().toLowerCase(Locale.ROOT);
    }
}
