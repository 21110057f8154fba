package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import io.netty.buffer.ByteBuf;

/**
 * Test switch: flips the TCP checksum field of every Nth TCP packet it sees. The packet's payload is
 * untouched, so a host that trusts the bus (checksum-unnecessary) delivers the data intact, and a host
 * that verifies drops the packet and counts a checksum error — the difference the design is about.
 */
final class ChecksumCorruptor {
    private final int every;
    private long seen;

    ChecksumCorruptor(int every) {
        this.every = every;
    }

    /** Returns true if it corrupted this packet. */
    boolean apply(Data data) {
        if (every <= 0) {
            return false;
        }
        ByteBuf b = data.content();
        int p = Data.PACKET_OFFSET;
        int len = data.packetLength();
        if ((b.getUnsignedByte(p) >> 4) != 4 || b.getUnsignedByte(p + 9) != 6) {
            return false;
        }
        int ihl = (b.getUnsignedByte(p) & 0x0f) * 4;
        boolean fragment = (b.getUnsignedShort(p + 6) & 0x3fff) != 0;
        if (fragment || len < ihl + 20) {
            return false;
        }
        if (seen++ % every != 0) {
            return false;
        }
        int field = p + ihl + 16;
        b.setShort(field, b.getUnsignedShort(field) ^ 0x5aa5);
        return true;
    }
}
