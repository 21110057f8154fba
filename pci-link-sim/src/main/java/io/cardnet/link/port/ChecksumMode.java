package io.cardnet.link.port;

import io.cardnet.link.protocol.Features;

/** The lab's checksum setting, as given on the command line ({@code --csum}). */
public enum ChecksumMode {
    /** The design: the bus is trusted, packets cross checksum-unnecessary or partial. */
    UNNECESSARY,
    /** No trust: full checksums on send, verification on receive, on both ends. */
    VERIFY;

    /** The feature bits an end offers in training for this mode. */
    public long features() {
        return this == UNNECESSARY ? Features.CSUM_UNNECESSARY | Features.GSO : 0;
    }

    public static ChecksumMode parse(String text) {
        return switch (text.toLowerCase()) {
            case "unnecessary" -> UNNECESSARY;
            case "verify" -> VERIFY;
            default -> throw new IllegalArgumentException("--csum takes 'unnecessary' or 'verify', not '" + text + "'");
        };
    }
}
