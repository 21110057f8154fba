package io.cardnet.link.port;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.netdev.InternetChecksum;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What each end does to a descriptor's checksum state, on real packet bytes. */
class ChecksumPolicyTest {

    private static Data data(byte[] packet, VnetHeader vnet) {
        return Data.of(ByteBufAllocator.DEFAULT, 1, vnet, packet);
    }

    @Test
    void policyFollowsTheTrainedFeatures() {
        assertSame(ChecksumPolicy.Unnecessary.INSTANCE, ChecksumPolicy.forFeatures(Features.CSUM_UNNECESSARY | Features.GSO));
        assertSame(ChecksumPolicy.Verify.INSTANCE, ChecksumPolicy.forFeatures(Features.GSO));
        assertSame(ChecksumPolicy.Verify.INSTANCE, ChecksumPolicy.forFeatures(0));
        assertEquals(ChecksumPolicy.Verify.INSTANCE, ChecksumPolicy.forFeatures(ChecksumMode.VERIFY.features()));
    }

    @Test
    void trustedBusMarksFullyChecksummedPacketsUnnecessary() {
        Data d = data(TestPackets.tcp(new byte[100]), VnetHeader.none());
        ChecksumPolicy.Unnecessary.INSTANCE.outbound(d);
        assertEquals(VnetHeader.FLAG_DATA_VALID, d.vnetFlags());
        d.release();
    }

    @Test
    void unnecessaryBecomesPartialOnWriteBecauseTunIgnoresDataValid() {
        Data tcp = data(TestPackets.tcp(new byte[100]), new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
        assertNull(ChecksumPolicy.Unnecessary.INSTANCE.inbound(tcp));
        assertEquals(VnetHeader.FLAG_NEEDS_CSUM, tcp.vnetFlags());
        assertEquals(20, tcp.csumStart());
        assertEquals(16, tcp.csumOffset());
        tcp.release();

        Data udp = data(TestPackets.udp(new byte[10]), new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
        ChecksumPolicy.Unnecessary.INSTANCE.inbound(udp);
        assertEquals(6, udp.csumOffset());
        udp.release();
    }

    @Test
    void aPacketMadePartialIsFinishedToItsOriginalChecksumByADeviceWithoutOffload() {
        // A card forwarding into a device without checksum offload (the ESP tunnel's TUN) finishes every partial
        // packet: a checksum that was already complete must come out the same, not summed over itself.
        for (byte[] packet : new byte[][]{complete(TestPackets.tcp("sixteen bytes!!!".getBytes()), 16),
                complete(TestPackets.udp(new byte[11]), 6),
                complete(TestPackets.ipv4(1, new byte[]{8, 0, 0, 0, 0, 1, 0, 7, 42}, 1, 2), 2)}) {
            Data d = data(packet, new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
            assertNull(ChecksumPolicy.Unnecessary.INSTANCE.inbound(d));
            assertEquals(VnetHeader.FLAG_NEEDS_CSUM, d.vnetFlags());
            byte[] bytes = new byte[d.packetLength()];
            d.packet().getBytes(d.packet().readerIndex(), bytes);
            InternetChecksum.completePartial(ByteBuffer.wrap(bytes), d.csumStart(), d.csumOffset());
            assertEquals(ByteBuffer.wrap(packet), ByteBuffer.wrap(bytes), "protocol " + packet[9]);
            d.release();
        }
    }

    /** The packet with its transport checksum complete, as a kernel without offload sends it. */
    private static byte[] complete(byte[] packet, int offset) {
        int protocol = packet[9];
        if (protocol != 1) {
            int pseudo = InternetChecksum.pseudoHeaderSumV4(ByteBuffer.wrap(packet).getInt(12),
                    ByteBuffer.wrap(packet).getInt(16), protocol, packet.length - 20);
            packet[20 + offset] = (byte) (pseudo >> 8);
            packet[21 + offset] = (byte) pseudo;
        }
        InternetChecksum.completePartial(ByteBuffer.wrap(packet), 20, offset);
        return packet;
    }

    @Test
    void unnecessaryLeavesFragmentsAndUnknownProtocolsToTheKernel() {
        byte[] fragment = TestPackets.udp(new byte[10]);
        fragment[6] = 0x20; // more fragments
        Data f = data(fragment, new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
        ChecksumPolicy.Unnecessary.INSTANCE.inbound(f);
        assertEquals(0, f.vnetFlags());
        f.release();
        Data gre = data(TestPackets.ipv4(47, new byte[8], 1, 2), new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
        ChecksumPolicy.Unnecessary.INSTANCE.inbound(gre);
        assertEquals(0, gre.vnetFlags());
        gre.release();
    }

    @Test
    void verifyFinishesAPartialChecksumInSoftwareSoTheReceiverCanCheckIt() {
        byte[] packet = TestPackets.tcp("sixteen bytes!!!".getBytes());
        // As a kernel hands it over for CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum.
        int pseudo = InternetChecksum.pseudoHeaderSumV4(0xC6120001, 0xC6120002, 6, packet.length - 20);
        packet[36] = (byte) (pseudo >> 8);
        packet[37] = (byte) pseudo;
        Data d = data(packet, new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM, 0, 0, 0, 20, 16));
        assertFalse(InternetChecksum.verifyTcpUdpV4(d.packet().nioBuffer()));
        assertNull(ChecksumPolicy.Verify.INSTANCE.inbound(d));
        assertEquals(0, d.vnetFlags());
        assertTrue(InternetChecksum.verifyTcpUdpV4(d.packet().nioBuffer()), "the finished checksum must verify");
        d.release();
    }

    @Test
    void verifyRefusesGsoItCannotSegment() {
        Data d = data(TestPackets.tcp(new byte[3000]), new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM,
                VnetHeader.GSO_TCPV4, 40, 1448, 20, 16));
        assertEquals("gso_without_offload", ChecksumPolicy.Verify.INSTANCE.inbound(d));
        Decoded.Refused<Data> refused = assertInstanceOf(Decoded.Refused.class, ChecksumPolicy.Verify.INSTANCE.deliverable(d));
        assertEquals(FrameFault.Kind.GSO_WITHOUT_OFFLOAD, refused.fault().kind());
        d.release();
    }

    @Test
    void aDeliverablePacketComesBackAsItselfReadyForTheTun() {
        Data d = data(TestPackets.udp(new byte[20]), new VnetHeader(VnetHeader.FLAG_DATA_VALID, 0, 0, 0, 0, 0));
        for (ChecksumPolicy policy : new ChecksumPolicy[]{ChecksumPolicy.Unnecessary.INSTANCE, ChecksumPolicy.Verify.INSTANCE}) {
            assertSame(d, assertInstanceOf(Decoded.Ok.class, policy.deliverable(d)).value());
        }
        d.release();
    }

    @Test
    void verifyMeansNoOffloadsAndUnnecessaryMeansChecksumAndTso() {
        assertTrue(ChecksumPolicy.Verify.INSTANCE.offloads().isEmpty());
        assertTrue(ChecksumPolicy.Unnecessary.INSTANCE.offloads().contains(io.cardnet.netdev.Tun.Offload.CSUM));
        assertTrue(ChecksumPolicy.Unnecessary.INSTANCE.offloads().contains(io.cardnet.netdev.Tun.Offload.TSO4));
    }

    @Test
    void pseudoHeaderHelperMatchesAByHandSum() {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.putInt(0xC6120001).putInt(0xC6120002).put((byte) 0).put((byte) 6).putShort((short) 36).flip();
        int byHand = 0;
        while (b.hasRemaining()) {
            byHand += b.getShort() & 0xffff;
        }
        while ((byHand >>> 16) != 0) {
            byHand = (byHand & 0xffff) + (byHand >>> 16);
        }
        assertEquals(byHand, InternetChecksum.pseudoHeaderSumV4(0xC6120001, 0xC6120002, 6, 36) & 0xffff);
    }
}
