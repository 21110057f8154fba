package io.cardnet.netdev;

import java.nio.ByteBuffer;

/**
 * {@code struct virtio_net_hdr} (virtio 1.0, little-endian): the 10 bytes in front of every packet
 * read from or written to a {@link Tun}.
 *
 * <p>On packets the kernel hands out: {@code FLAG_NEEDS_CSUM} means the L4 checksum is partial (the
 * field holds only the pseudo-header sum; complete it with
 * {@link InternetChecksum#completePartial}), and a GSO type other than {@code GSO_NONE} means a
 * super-packet to cut into {@code gsoSize}-byte segments; {@code FLAG_DATA_VALID} means the kernel
 * already verified the checksum. On packets written in, only {@code FLAG_NEEDS_CSUM} changes
 * anything: the kernel treats the checksum as its own partial one and does not verify it on local
 * delivery. With flags 0 it is verified; a TUN ignores {@code FLAG_DATA_VALID} on write (checked by
 * TunRoundTripTest), so it is verified then too.
 *
 * @param flags VIRTIO_NET_HDR_F_* (u8)
 * @param gsoType VIRTIO_NET_HDR_GSO_* (u8), possibly ORed with {@link #GSO_ECN}
 * @param hdrLen length of the headers to copy in front of each segment (u16)
 * @param gsoSize payload bytes per segment (u16)
 * @param csumStart where checksumming starts, from the start of the IP packet (u16)
 * @param csumOffset where the checksum goes, from csumStart (u16)
 */
public record VnetHeader(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
    public static final int FLAG_NEEDS_CSUM = 1;
    public static final int FLAG_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_ECN = 0x80;
    /** sizeof(struct virtio_net_hdr), also what Tun sets with TUNSETVNETHDRSZ. */
    public static final int SIZE = 10;

    private static final VnetHeader NONE = new VnetHeader(0, GSO_NONE, 0, 0, 0, 0);

    public VnetHeader {
        check("flags", flags, 0xFF);
        check("gsoType", gsoType, 0xFF);
        check("hdrLen", hdrLen, 0xFFFF);
        check("gsoSize", gsoSize, 0xFFFF);
        check("csumStart", csumStart, 0xFFFF);
        check("csumOffset", csumOffset, 0xFFFF);
    }

    /** No flags, no GSO: a complete packet whose checksums the kernel verifies. */
    public static VnetHeader none() {
        return NONE;
    }

    /** Reads the header at absolute {@code offset}, whatever the buffer's byte order. */
    public static VnetHeader read(ByteBuffer buf, int offset) {
        return new VnetHeader(u8(buf, offset), u8(buf, offset + 1), u16le(buf, offset + 2),
                u16le(buf, offset + 4), u16le(buf, offset + 6), u16le(buf, offset + 8));
    }

    /** Writes the header at absolute {@code offset}, whatever the buffer's byte order. */
    public void write(ByteBuffer buf, int offset) {
        buf.put(offset, (byte) flags);
        buf.put(offset + 1, (byte) gsoType);
        putU16le(buf, offset + 2, hdrLen);
        putU16le(buf, offset + 4, gsoSize);
        putU16le(buf, offset + 6, csumStart);
        putU16le(buf, offset + 8, csumOffset);
    }

    public boolean needsCsum() {
        return (flags & FLAG_NEEDS_CSUM) != 0;
    }

    public boolean dataValid() {
        return (flags & FLAG_DATA_VALID) != 0;
    }

    /** Whether this is a GSO super-packet. */
    public boolean isGso() {
        return (gsoType & ~GSO_ECN) != GSO_NONE;
    }

    private static void check(String field, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(field + " " + value + " is not in 0.." + max);
        }
    }

    private static int u8(ByteBuffer buf, int i) {
        return Byte.toUnsignedInt(buf.get(i));
    }

    private static int u16le(ByteBuffer buf, int i) {
        return u8(buf, i) | u8(buf, i + 1) << 8;
    }

    private static void putU16le(ByteBuffer buf, int i, int value) {
        buf.put(i, (byte) value);
        buf.put(i + 1, (byte) (value >>> 8));
    }
}
