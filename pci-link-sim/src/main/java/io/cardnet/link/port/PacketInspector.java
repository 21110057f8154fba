package io.cardnet.link.port;

import io.netty.buffer.ByteBuf;

/** Reads just enough of an IP header to place a transport checksum. */
final class PacketInspector {
    static final int NONE = -1;

    private PacketInspector() {
    }

    /**
     * Where the transport checksum of the packet at {@code p} lives, packed as {@code start << 16 | offset}
     * (virtio's csum_start and csum_offset, relative to the packet), or {@link #NONE} for a fragment or a
     * protocol without one we know (only TCP, UDP, ICMP and ICMPv6 directly after the IP header).
     */
    static int checksumField(ByteBuf b, int p, int length) {
        int version = b.getUnsignedByte(p) >> 4;
        int start;
        int protocol;
        if (version == 4) {
            start = (b.getUnsignedByte(p) & 0x0f) * 4;
            if ((b.getUnsignedShort(p + 6) & 0x3fff) != 0) {
                return NONE;
            }
            protocol = b.getUnsignedByte(p + 9);
        } else if (version == 6 && length >= 40) {
            start = 40;
            protocol = b.getUnsignedByte(p + 6);
        } else {
            return NONE;
        }
        int offset = switch (protocol) {
            case 6 -> 16;          // TCP
            case 17 -> 6;          // UDP
            case 1, 58 -> 2;       // ICMP, ICMPv6
            default -> NONE;
        };
        if (offset == NONE || start + offset + 2 > length) {
            return NONE;
        }
        return start << 16 | offset;
    }

    /**
     * Turns a packet's complete transport checksum into the seed a checksum-partial packet carries (Linux's
     * CHECKSUM_PARTIAL: the pseudo-header's folded sum, 0 for ICMP), at {@code field} as {@link #checksumField}
     * found it. A receiver that skips verification never reads it; one that finishes the checksum (a device
     * without checksum offload, such as a TUN the card forwards into) then computes the right value instead of
     * summing over a checksum that was already there.
     */
    static void seedPartial(ByteBuf b, int p, int length, int field) {
        int start = field >>> 16;
        int version = b.getUnsignedByte(p) >> 4;
        int protocol = version == 4 ? b.getUnsignedByte(p + 9) : b.getUnsignedByte(p + 6);
        long sum = 0;
        if (protocol != 1) {   // ICMPv4 has no pseudo-header
            int addresses = version == 4 ? 12 : 8;
            int end = version == 4 ? 20 : 40;
            for (int i = addresses; i < end; i += 2) {
                sum += b.getUnsignedShort(p + i);
            }
            sum += protocol + (length - start);
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        b.setShort(p + start + (field & 0xffff), (int) sum);
    }
}
