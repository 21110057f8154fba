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
}
