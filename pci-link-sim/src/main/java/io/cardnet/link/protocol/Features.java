package io.cardnet.link.protocol;

/**
 * Feature bits exchanged in training; the link runs with the intersection of both ends' bits,
 * the way PCIe ends negotiate capabilities.
 */
public final class Features {
    /** Packets may cross marked checksum-unnecessary or partial: the receiver does not verify. */
    public static final long CSUM_UNNECESSARY = 1L;
    /** Packets may be GSO super-packets (TSO); needs {@link #CSUM_UNNECESSARY}. */
    public static final long GSO = 1L << 1;

    /** Packets travel in shared DMA memory (same machine, Unix sockets); frames carry only descriptors. */
    public static final long SHARED_MEMORY = 1L << 2;

    /**
     * The descriptor rings live in shared memory too ({@code io.cardnet.link.dma.SharedRing}) and each end rings
     * the other's doorbell directly: the simulator trains the link and watches it, but no descriptor crosses it.
     * Needs {@link #SHARED_MEMORY}; the simulator grants it only while nothing needs it on the per-packet path
     * (an unpaced link, no faults, no capture).
     */
    public static final long DIRECT_RING = 1L << 3;

    private Features() {
    }

    public static boolean has(long features, long bit) {
        return (features & bit) == bit;
    }

    public static String describe(long features) {
        StringBuilder sb = new StringBuilder();
        if (has(features, CSUM_UNNECESSARY)) {
            sb.append("csum-unnecessary");
        }
        if (has(features, GSO)) {
            sb.append(sb.isEmpty() ? "" : ",").append("gso");
        }
        if (has(features, SHARED_MEMORY)) {
            sb.append(sb.isEmpty() ? "" : ",").append("shared-memory");
        }
        if (has(features, DIRECT_RING)) {
            sb.append(sb.isEmpty() ? "" : ",").append("direct-ring");
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
