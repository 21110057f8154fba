package io.cardnet.link.port;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.netdev.InternetChecksum;
import io.cardnet.netdev.Tun;
import io.cardnet.netdev.VnetHeader;

import java.util.EnumSet;
import java.util.Set;

/**
 * How an end treats checksums on the bus, chosen by the features the link trained with.
 *
 * <p>Linux facts this rests on: a TUN writer gets "no verification" only by writing the virtio header
 * flag NEEDS_CSUM (the skb becomes CHECKSUM_PARTIAL, which the receive path counts as verified);
 * DATA_VALID is ignored on write; flags 0 makes the kernel verify.
 */
public sealed interface ChecksumPolicy permits ChecksumPolicy.Unnecessary, ChecksumPolicy.Verify {

    /** Prepares a packet read from the TUN for the bus. */
    void outbound(Data data);

    /**
     * Prepares a packet from the bus for the TUN write: the same Data, ready to be written, or the fault
     * that says why it cannot be delivered under this policy.
     */
    Decoded<Data> deliverable(Data data);

    /**
     * {@link #deliverable} for a caller that only counts drops: null if the packet may be written, or the
     * drop reason (the refusal's metric tag, e.g. "gso_without_offload").
     */
    default String inbound(Data data) {
        return deliverable(data) instanceof Decoded.Refused<Data>(FrameFault fault) ? fault.kind().tag() : null;
    }

    /**
     * A packet from the bus marked partial must name a checksum field inside it (Linux's virtio_net_hdr_to_skb
     * refuses the TUN write otherwise, and it could not be finished here): null if it does, else the refusal.
     */
    private static Decoded<Data> partialOutside(Data data) {
        if ((data.vnetFlags() & VnetHeader.FLAG_NEEDS_CSUM) == 0 || fieldInside(data)) {
            return null;
        }
        return Decoded.refused(FrameFault.Kind.BAD_CSUM_OFFSETS, "a partial checksum at csum_start " + data.csumStart()
                + " + csum_offset " + data.csumOffset() + " lies outside the " + data.packetLength()
                + "-byte packet; its sender's virtio header is wrong");
    }

    private static boolean fieldInside(Data data) {
        return data.csumStart() < data.packetLength() && data.csumStart() + data.csumOffset() + 2 <= data.packetLength();
    }

    /** The TUN offloads that go with this policy. */
    Set<Tun.Offload> offloads();

    static ChecksumPolicy forFeatures(long features) {
        return Features.has(features, Features.CSUM_UNNECESSARY) ? Unnecessary.INSTANCE : Verify.INSTANCE;
    }

    /**
     * The design's default: the bus is trusted. Packets the kernel hands over already checksummed are
     * marked DATA_VALID (the sender vouches); on the far side, DATA_VALID becomes NEEDS_CSUM so that
     * kernel skips verification, and partial packets stay partial (the card's kernel finishes them when it
     * forwards to a device that needs it).
     */
    enum Unnecessary implements ChecksumPolicy {
        INSTANCE;

        @Override
        public void outbound(Data data) {
            if (data.vnetFlags() == 0) {
                data.vnetFlags(VnetHeader.FLAG_DATA_VALID);
            }
        }

        @Override
        public Decoded<Data> deliverable(Data data) {
            Decoded<Data> refused = partialOutside(data);
            if (refused != null) {
                return refused;
            }
            if ((data.vnetFlags() & VnetHeader.FLAG_DATA_VALID) != 0) {
                int field = PacketInspector.checksumField(data.content(), Data.PACKET_OFFSET, data.packetLength());
                if (field == PacketInspector.NONE) {
                    data.vnetFlags(0);
                } else {
                    PacketInspector.seedPartial(data.content(), Data.PACKET_OFFSET, data.packetLength(), field);
                    data.markPartial(field >>> 16, field & 0xffff);
                }
            }
            return Decoded.ok(data);
        }

        @Override
        public Set<Tun.Offload> offloads() {
            return EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO6);
        }
    }

    /**
     * {@code --csum verify}: no trust. TUN offloads are off, so each kernel computes full checksums on
     * send; packets cross with flags 0, so each kernel verifies on receive. A partial packet from an end
     * that still offloads is finished in software first.
     */
    enum Verify implements ChecksumPolicy {
        INSTANCE;

        @Override
        public void outbound(Data data) {
            finish(data);
        }

        @Override
        public Decoded<Data> deliverable(Data data) {
            if (data.gsoType() != VnetHeader.GSO_NONE) {
                return Decoded.refused(FrameFault.Kind.GSO_WITHOUT_OFFLOAD, "a GSO super-packet (type "
                        + data.gsoType() + ") for a TUN without segmentation offload; its sender should have segmented it");
            }
            Decoded<Data> refused = partialOutside(data);
            if (refused != null) {
                return refused;
            }
            finish(data);
            return Decoded.ok(data);
        }

        private static void finish(Data data) {
            int flags = data.vnetFlags();
            // a partial packet naming a field outside itself (never from a kernel) cannot be finished: it goes
            // out unfinished with flags 0, so the receiving kernel verifies and drops it
            if ((flags & VnetHeader.FLAG_NEEDS_CSUM) != 0 && fieldInside(data)) {
                InternetChecksum.completePartial(data.content().nioBuffer(Data.PACKET_OFFSET, data.packetLength()),
                        data.csumStart(), data.csumOffset());
            }
            if (flags != 0) {
                data.vnetFlags(0);
            }
        }

        @Override
        public Set<Tun.Offload> offloads() {
            return EnumSet.noneOf(Tun.Offload.class);
        }
    }
}
