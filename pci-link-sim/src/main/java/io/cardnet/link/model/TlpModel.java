package io.cardnet.link.model;

/**
 * How many bytes a descriptor puts on a PCIe link, and how long they take. The formulas, with their sources,
 * are in docs/link-model.md; in short, for a packet of {@code n} bytes moving in one direction:
 *
 * <pre>
 *  data TLPs     = ceil(n / MPS)
 *  TLP overhead  = framing (2 Gen1/2, 4 Gen3+) + sequence (2 Gen1/2, 0 Gen3+) + 4DW header 16 + LCRC 4
 *  DLLP share    = ACK + UpdateFC, 8 bytes each, one of each per 4 TLPs  = 4 bytes per TLP
 *  descriptor    = one completion TLP carrying the 16-byte descriptor (the engine fetches it)
 *  wire bytes    = n + (data TLPs + 1) × (TLP overhead + DLLP share) + 16
 *  time          = wire bytes × 8 / (lanes × rate per lane after encoding)
 * </pre>
 *
 * Doorbells and interrupts are one 4-byte memory-write TLP each, charged to the direction they travel.
 */
public final class TlpModel {
    public static final int HEADER_BYTES = 16;
    public static final int LCRC_BYTES = 4;
    public static final int DLLP_BYTES_PER_TLP = 4;
    public static final int DESCRIPTOR_BYTES = 16;
    public static final int DOORBELL_PAYLOAD = 4;

    private final LinkProfile profile;
    private final double nanosPerByte;
    private final int tlpOverhead;

    public TlpModel(LinkProfile profile) {
        this.profile = profile;
        this.nanosPerByte = profile.paced() ? 8e9 / profile.bitsPerSecond() : 0;
        this.tlpOverhead = profile.paced()
                ? profile.generation().framingBytes() + profile.generation().sequenceBytes() + HEADER_BYTES
                + LCRC_BYTES + DLLP_BYTES_PER_TLP
                : 0;
    }

    public LinkProfile profile() {
        return profile;
    }

    /** TLPs that carry a packet of {@code n} bytes, plus the descriptor's completion. */
    public int tlps(int n) {
        return profile.paced() ? ceilDiv(n, profile.maxPayload()) + 1 : ceilDiv(n, 4096) + 1;
    }

    /** Bytes on the wire for a packet of {@code n} bytes and its descriptor. */
    public long wireBytes(int n) {
        if (!profile.paced()) {
            return n;
        }
        return n + (long) tlps(n) * tlpOverhead + DESCRIPTOR_BYTES;
    }

    /** Bytes on the wire for one doorbell or interrupt (a 4-byte memory write). */
    public long notificationWireBytes() {
        return profile.paced() ? DOORBELL_PAYLOAD + tlpOverhead : 0;
    }

    /** Nanoseconds the link is busy with {@code wireBytes}. */
    public long nanos(long wireBytes) {
        return Math.round(wireBytes * nanosPerByte);
    }

    /**
     * The rate at which packets of {@code n} bytes cross, in packet bytes per second, counting one notification
     * per {@code framesPerNotification} packets. Infinite if unlimited.
     */
    public double packetBytesPerSecond(int n, double framesPerNotification) {
        if (!profile.paced()) {
            return Double.POSITIVE_INFINITY;
        }
        double wire = wireBytes(n) + notificationWireBytes() / Math.max(1, framesPerNotification);
        return n / (wire * nanosPerByte / 1e9);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
