package io.cardnet.netdev;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The Internet checksum (RFC 1071): the one's-complement sum of 16-bit big-endian words.
 *
 * <p>Sums are returned folded to 16 bits and not complemented, so partial sums can be chained
 * through {@code initial}; {@link #finish} turns one into the value stored in a header.
 *
 * <p>Speed comes from reading 8 bytes at a time and adding their two 32-bit halves into a 64-bit
 * accumulator, which cannot overflow for any int length, and folding once at the end (RFC 1071
 * section 2: the sum can be computed in any word size and folded). Longs are read in the buffer's
 * own byte order, which is never changed; with little-endian order every 16-bit word comes out
 * byte-swapped, and because the one's-complement sum commutes with byte swapping (RFC 1071 2(B))
 * one swap of the folded result fixes it. All offsets are absolute and positions are left alone
 * unless a method says otherwise.
 */
public final class InternetChecksum {
    private static final int PROTO_TCP = 6;
    private static final int PROTO_UDP = 17;

    private InternetChecksum() {
    }

    /**
     * The one's-complement sum of {@code length} bytes at absolute {@code offset} plus
     * {@code initial} (an earlier partial sum, e.g. a pseudo-header), folded to 16 bits. An odd last
     * byte is padded with a zero byte on the right, so only the final piece of a chain may be odd.
     */
    public static int sum(ByteBuffer buf, int offset, int length, int initial) {
        Objects.checkFromIndexSize(offset, length, buf.limit());
        long acc = 0;
        int i = offset;
        int end = offset + length;
        for (; end - i >= 32; i += 32) {
            long a = buf.getLong(i);
            long b = buf.getLong(i + 8);
            long c = buf.getLong(i + 16);
            long d = buf.getLong(i + 24);
            acc += (a >>> 32) + (a & 0xFFFF_FFFFL) + (b >>> 32) + (b & 0xFFFF_FFFFL)
                    + (c >>> 32) + (c & 0xFFFF_FFFFL) + (d >>> 32) + (d & 0xFFFF_FFFFL);
        }
        for (; end - i >= 8; i += 8) {
            long a = buf.getLong(i);
            acc += (a >>> 32) + (a & 0xFFFF_FFFFL);
        }
        if (end - i >= 4) {
            acc += Integer.toUnsignedLong(buf.getInt(i));
            i += 4;
        }
        if (end - i >= 2) {
            acc += Short.toUnsignedInt(buf.getShort(i));
            i += 2;
        }
        boolean swapped = buf.order() == ByteOrder.LITTLE_ENDIAN;
        if (i < end) {
            int last = Byte.toUnsignedInt(buf.get(i));
            // The padded word is (last, 0): 0xNN00 big-endian, 0x00NN as a little-endian short.
            acc += swapped ? last : last << 8;
        }
        int folded = fold(acc);
        if (swapped) {
            folded = Integer.reverseBytes(folded) >>> 16;
        }
        return fold(folded + Integer.toUnsignedLong(initial));
    }

    /** The value to store in a checksum field: the complement of the folded sum. */
    public static short finish(int sum) {
        return (short) ~fold(Integer.toUnsignedLong(sum));
    }

    /**
     * The folded sum of the IPv4 pseudo-header (RFC 793/768): source, destination, zero+protocol
     * and the L4 length (header + payload).
     */
    public static int pseudoHeaderSumV4(int srcAddr, int dstAddr, int protocol, int l4Length) {
        long acc = (srcAddr >>> 16) + (srcAddr & 0xFFFF) + (dstAddr >>> 16) + (dstAddr & 0xFFFF)
                + (protocol & 0xFF) + (l4Length & 0xFFFF);
        return fold(acc);
    }

    /**
     * Completes a CHECKSUM_PARTIAL packet in place, as the kernel's skb_checksum_help does: sums
     * from {@code csumStart} to the end of the packet (the checksum field holding the folded
     * pseudo-header sum, as virtio/TUN deliver it) and stores the complement at
     * {@code csumStart + csumOffset}. A result of 0 is stored as 0xFFFF, which means the same in
     * one's complement and keeps UDP's "0 = no checksum" meaning away.
     *
     * @param packet the IP packet, from its position to its limit
     * @param csumStart offset of the L4 header from the packet's start (virtio_net_hdr csum_start)
     * @param csumOffset offset of the checksum field within it (virtio_net_hdr csum_offset: 16 TCP, 6 UDP)
     */
    public static void completePartial(ByteBuffer packet, int csumStart, int csumOffset) {
        int end = packet.limit();
        // in long: csum_start near Integer.MAX_VALUE must not wrap around into the packet
        long start = (long) packet.position() + csumStart;
        long field = start + csumOffset;
        if (csumStart < 0 || csumOffset < 0 || start >= end || field + 2 > end) {
            throw new IllegalArgumentException("csum_start " + csumStart + " + csum_offset " + csumOffset
                    + " + 2 is outside the " + packet.remaining() + "-byte packet");
        }
        int result = finish(sum(packet, (int) start, end - (int) start, 0)) & 0xFFFF;
        if (result == 0) {
            result = 0xFFFF;
        }
        packet.put((int) field, (byte) (result >>> 8));
        packet.put((int) field + 1, (byte) result);
    }

    /**
     * Whether an IPv4 TCP or UDP packet's L4 checksum (pseudo-header included) is correct. A UDP
     * checksum of 0 means "none" and counts as correct. The IPv4 header checksum is not checked.
     *
     * @param ipPacket the packet from its position; its length is the IPv4 total length
     * @throws IllegalArgumentException if it is not an unfragmented IPv4 TCP/UDP packet that fits in
     *     the buffer's remaining bytes
     */
    public static boolean verifyTcpUdpV4(ByteBuffer ipPacket) {
        int base = ipPacket.position();
        int available = ipPacket.remaining();
        if (available < 20 || (u8(ipPacket, base) >>> 4) != 4) {
            throw new IllegalArgumentException("not an IPv4 packet");
        }
        int ihl = (u8(ipPacket, base) & 0x0F) * 4;
        int totalLength = u16(ipPacket, base + 2);
        if (ihl < 20 || totalLength < ihl || totalLength > available) {
            throw new IllegalArgumentException("bad IPv4 header: ihl " + ihl + ", total length " + totalLength
                    + ", " + available + " bytes present");
        }
        if ((u16(ipPacket, base + 6) & 0x3FFF) != 0) {
            throw new IllegalArgumentException("an IPv4 fragment's L4 checksum cannot be verified alone");
        }
        int protocol = u8(ipPacket, base + 9);
        int l4Length = totalLength - ihl;
        int l4 = base + ihl;
        if (protocol == PROTO_UDP) {
            if (l4Length < 8) {
                throw new IllegalArgumentException("UDP datagram shorter than its header");
            }
            if (u16(ipPacket, l4 + 6) == 0) {
                return true;
            }
        } else if (protocol == PROTO_TCP) {
            if (l4Length < 20) {
                throw new IllegalArgumentException("TCP segment shorter than its header");
            }
        } else {
            throw new IllegalArgumentException("IP protocol " + protocol + " is neither TCP nor UDP");
        }
        int pseudo = pseudoHeaderSumV4(s32(ipPacket, base + 12), s32(ipPacket, base + 16), protocol, l4Length);
        return sum(ipPacket, l4, l4Length, pseudo) == 0xFFFF;
    }

    private static int fold(long acc) {
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) acc;
    }

    // Byte-wise reads: independent of the buffer's order.
    private static int u8(ByteBuffer b, int i) {
        return Byte.toUnsignedInt(b.get(i));
    }

    private static int u16(ByteBuffer b, int i) {
        return u8(b, i) << 8 | u8(b, i + 1);
    }

    private static int s32(ByteBuffer b, int i) {
        return u16(b, i) << 16 | u16(b, i + 2);
    }
}
