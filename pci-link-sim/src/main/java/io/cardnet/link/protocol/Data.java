package io.cardnet.link.protocol;

import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A descriptor: one IP packet with its metadata, held as its wire bytes.
 *
 * <pre>
 *  off  size
 *   0    4   length (bytes after this field) = 22 + packet length
 *   4    1   type = DATA
 *   5    1   flags, 0
 *   6    2   link epoch (low 16 bits) the descriptor was posted in: older ones are stale after a retrain
 *   8    8   sequence, per direction, starts at 1 after each training
 *  16   10   virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (LE)
 *  26    n   the IP packet, 20..65535 bytes
 * </pre>
 *
 * The virtio header sits right before the packet because that is exactly what a TUN opened with
 * IFF_VNET_HDR reads and writes: the bytes from offset 16 on go to and from the device unchanged,
 * so neither side copies the packet. The header's flags carry the checksum state:
 * {@code NEEDS_CSUM} = partial (start + offset), {@code DATA_VALID} = unnecessary, 0 = none.
 */
public final class Data extends DefaultByteBufHolder implements Frame {
    public static final int SEQUENCE_OFFSET = 8;
    public static final int VNET_OFFSET = 16;
    public static final int PACKET_OFFSET = VNET_OFFSET + VnetHeader.SIZE;
    public static final int MAX_PACKET = 65535;
    public static final int MIN_PACKET = 20;
    /** The largest value a DATA frame's length field may hold. */
    public static final int MAX_LENGTH = PACKET_OFFSET - 4 + MAX_PACKET;

    public Data(ByteBuf wire) {
        super(wire);
    }

    /** A buffer ready for a TUN read of a virtio header and a packet at {@link #VNET_OFFSET}. */
    public static ByteBuf allocateForRead(ByteBufAllocator alloc) {
        ByteBuf buf = alloc.directBuffer(PACKET_OFFSET + MAX_PACKET);
        buf.writerIndex(VNET_OFFSET);
        return buf;
    }

    /** Completes the frame header around {@code vnetAndPacket} bytes read at {@link #VNET_OFFSET}. */
    public static Data seal(ByteBuf buf, int vnetAndPacket) {
        return seal(buf, vnetAndPacket, 0);
    }

    /** As {@link #seal(ByteBuf, int)}, with a sequence number (tests, tools; ends get theirs from BusPort). */
    public static Data seal(ByteBuf buf, int vnetAndPacket, long sequence) {
        buf.setIntLE(0, SEQUENCE_OFFSET - 4 + 8 + vnetAndPacket);
        buf.setByte(4, FrameType.DATA.code());
        buf.setByte(5, 0);
        buf.setShortLE(6, 0);
        buf.setLongLE(SEQUENCE_OFFSET, sequence);
        buf.writerIndex(VNET_OFFSET + vnetAndPacket);
        return new Data(buf);
    }

    /** Builds a descriptor by copying a packet (tests, tools); the data path uses {@link #seal}. */
    public static Data of(ByteBufAllocator alloc, long sequence, VnetHeader vnet, byte[] packet) {
        ByteBuf buf = alloc.directBuffer(PACKET_OFFSET + packet.length);
        buf.writerIndex(VNET_OFFSET);
        buf.writeZero(VnetHeader.SIZE);
        buf.writeBytes(packet);
        Data d = seal(buf, VnetHeader.SIZE + packet.length, sequence);
        d.setVnet(vnet);
        return d;
    }

    @Override
    public FrameType type() {
        return FrameType.DATA;
    }

    public int epoch() {
        return content().getUnsignedShortLE(6);
    }

    public void epoch(long epoch) {
        content().setShortLE(6, (int) epoch);
    }

    public long sequence() {
        return content().getLongLE(SEQUENCE_OFFSET);
    }

    public void sequence(long sequence) {
        content().setLongLE(SEQUENCE_OFFSET, sequence);
    }

    public int packetLength() {
        return content().writerIndex() - PACKET_OFFSET;
    }

    /** Bytes the TUN reads or writes: the virtio header and the packet. */
    public int vnetAndPacketLength() {
        return content().writerIndex() - VNET_OFFSET;
    }

    public int vnetFlags() {
        return content().getUnsignedByte(VNET_OFFSET);
    }

    public void vnetFlags(int flags) {
        content().setByte(VNET_OFFSET, flags);
    }

    public int gsoType() {
        return content().getUnsignedByte(VNET_OFFSET + 1);
    }

    public int gsoSize() {
        return content().getUnsignedShortLE(VNET_OFFSET + 4);
    }

    public int csumStart() {
        return content().getUnsignedShortLE(VNET_OFFSET + 6);
    }

    public int csumOffset() {
        return content().getUnsignedShortLE(VNET_OFFSET + 8);
    }

    /** Marks the packet checksum-partial: the receiver's kernel finishes or skips the checksum. */
    public void markPartial(int csumStart, int csumOffset) {
        ByteBuf b = content();
        b.setByte(VNET_OFFSET, VnetHeader.FLAG_NEEDS_CSUM);
        b.setShortLE(VNET_OFFSET + 6, csumStart);
        b.setShortLE(VNET_OFFSET + 8, csumOffset);
    }

    public VnetHeader vnet() {
        return VnetHeader.read(content().nioBuffer(VNET_OFFSET, VnetHeader.SIZE), 0);
    }

    public void setVnet(VnetHeader vnet) {
        ByteBuf b = content();
        b.setByte(VNET_OFFSET, vnet.flags());
        b.setByte(VNET_OFFSET + 1, vnet.gsoType());
        b.setShortLE(VNET_OFFSET + 2, vnet.hdrLen());
        b.setShortLE(VNET_OFFSET + 4, vnet.gsoSize());
        b.setShortLE(VNET_OFFSET + 6, vnet.csumStart());
        b.setShortLE(VNET_OFFSET + 8, vnet.csumOffset());
    }

    /** The IP packet, as a slice sharing this frame's memory. */
    public ByteBuf packet() {
        return content().slice(PACKET_OFFSET, packetLength());
    }

    @Override
    public Data replace(ByteBuf content) {
        return new Data(content);
    }

    @Override
    public Data retain() {
        super.retain();
        return this;
    }

    @Override
    public Data touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Data[seq=" + sequence() + ", packet=" + packetLength() + "B, vnetFlags=" + vnetFlags()
                + ", gso=" + gsoType() + "/" + gsoSize() + "]";
    }
}
