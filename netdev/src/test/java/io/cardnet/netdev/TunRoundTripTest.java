package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A UDP datagram out through toe0 and crafted replies back in, proving the checksum semantics the
 * card relies on: a packet written with NEEDS_CSUM is delivered without checksum verification,
 * one written with flags 0 (or DATA_VALID, which a TUN ignores) is verified and dropped if wrong.
 */
class TunRoundTripTest extends NamespaceTestBase {
    private static final int PEER_PORT = 9999;

    @Test
    void udpOutAndRepliesBackWithChecksumSemantics() throws Exception {
        Tun tun = openConfiguredToe(65535);
        try (tun; DatagramSocket socket = inNs(() -> new DatagramSocket(new InetSocketAddress(LOCAL, 0)))) {
            int localPort = socket.getLocalPort();
            byte[] hello = "hello card".getBytes(StandardCharsets.US_ASCII);
            socket.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(PEER, PEER_PORT)));

            // Out: vnet header + IPv4 + UDP, checksum left partial because of the CSUM offload.
            ByteBuffer in = ByteBuffer.allocateDirect(VnetHeader.SIZE + 65535);
            int n = readUdpTo(tun, in, PEER_PORT);
            VnetHeader vnet = VnetHeader.read(in, 0);
            ByteBuffer ip = in.duplicate().position(VnetHeader.SIZE).limit(n);
            int base = VnetHeader.SIZE;
            assertEquals(Packets.addr("198.18.0.1"), Packets.get32(in, base + 12));
            assertEquals(Packets.addr("198.18.0.2"), Packets.get32(in, base + 16));
            assertEquals(localPort, Packets.get16(in, base + 20));
            assertEquals(8 + hello.length, Packets.get16(in, base + 24));
            byte[] payload = new byte[hello.length];
            in.get(base + 28, payload);
            assertArrayEquals(hello, payload);
            assertEquals(VnetHeader.GSO_NONE, vnet.gsoType());
            // With the CSUM offload the kernel leaves the UDP checksum to us (CHECKSUM_PARTIAL).
            assertTrue(vnet.needsCsum(), vnet.toString());
            assertEquals(20, vnet.csumStart());
            assertEquals(6, vnet.csumOffset());
            int pseudo = InternetChecksum.pseudoHeaderSumV4(Packets.addr("198.18.0.1"), Packets.addr("198.18.0.2"),
                    Packets.UDP, 8 + hello.length);
            assertEquals(pseudo, Packets.get16(in, base + 26), "partial field holds the pseudo-header sum");
            InternetChecksum.completePartial(ip, vnet.csumStart(), vnet.csumOffset());
            assertTrue(InternetChecksum.verifyTcpUdpV4(ip));

            socket.setSoTimeout(2000);
            // In, NEEDS_CSUM: the checksum field holds only the pseudo-header sum, as for CHECKSUM_PARTIAL.
            byte[] reply1 = "reply partial".getBytes(StandardCharsets.US_ASCII);
            byte[] packet1 = udpReply(localPort, reply1);
            Packets.put16(packet1, 26, Packets.refPseudo(packet1));
            write(tun, new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM, VnetHeader.GSO_NONE, 0, 0, 20, 6), packet1);
            assertReceived(socket, reply1);

            // In, flags 0, correct checksum: verified and delivered.
            byte[] reply2 = "reply verified".getBytes(StandardCharsets.US_ASCII);
            byte[] packet2 = udpReply(localPort, reply2);
            Packets.fillL4Checksum(packet2);
            write(tun, VnetHeader.none(), packet2);
            assertReceived(socket, reply2);

            // In, flags 0, wrong checksum: verified, dropped, counted.
            long csumErrorsBefore = udpInCsumErrors();
            byte[] packet3 = udpReply(localPort, "reply corrupt".getBytes(StandardCharsets.US_ASCII));
            Packets.fillL4Checksum(packet3);
            packet3[26] ^= 0x01;
            write(tun, VnetHeader.none(), packet3);
            socket.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> socket.receive(new DatagramPacket(new byte[2048], 2048)));
            long csumErrorsAfter = udpInCsumErrors();
            assertTrue(csumErrorsAfter > csumErrorsBefore, "Udp InCsumErrors should have grown");

            // In, DATA_VALID, wrong checksum: a TUN ignores DATA_VALID on write, so this is dropped too.
            write(tun, new VnetHeader(VnetHeader.FLAG_DATA_VALID, VnetHeader.GSO_NONE, 0, 0, 0, 0), packet3);
            assertThrows(SocketTimeoutException.class, () -> socket.receive(new DatagramPacket(new byte[2048], 2048)));
            assertTrue(udpInCsumErrors() > csumErrorsAfter, "DATA_VALID must not skip verification on a TUN");
        }
    }

    @Test
    void malformedPacketIsRejectedWithExplanation() throws Exception {
        try (Tun tun = openConfiguredToe(1500)) {
            ByteBuffer bad = ByteBuffer.allocateDirect(VnetHeader.SIZE + 40);
            // Version nibble 0: neither IPv4 nor IPv6.
            NetdevException e = assertThrows(NetdevException.class, () -> tun.write(bad));
            assertEquals("EINVAL", e.errnoName());
            assertTrue(e.getMessage().contains("the kernel rejected the packet: bad virtio_net_hdr or IP header"),
                    e.getMessage());
            assertEquals(0, bad.position());
            // csum_start beyond the packet.
            byte[] ok = udpReply(1234, new byte[4]);
            ByteBuffer badCsum = ByteBuffer.allocateDirect(VnetHeader.SIZE + ok.length);
            new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM, 0, 0, 0, 500, 6).write(badCsum, 0);
            badCsum.put(VnetHeader.SIZE, ok);
            assertEquals("EINVAL", assertThrows(NetdevException.class, () -> tun.write(badCsum)).errnoName());
            assertThrows(IllegalArgumentException.class, () -> tun.write(ByteBuffer.allocate(50)));
        }
    }

    private static byte[] udpReply(int localPort, byte[] payload) {
        return Packets.ipv4(Packets.addr("198.18.0.2"), Packets.addr("198.18.0.1"), Packets.UDP,
                Packets.udp(PEER_PORT, localPort, payload));
    }

    private static void write(Tun tun, VnetHeader vnet, byte[] packet) throws NetdevException {
        ByteBuffer out = ByteBuffer.allocateDirect(VnetHeader.SIZE + packet.length);
        vnet.write(out, 0);
        out.put(VnetHeader.SIZE, packet);
        assertEquals(out.limit(), tun.write(out));
        assertEquals(out.limit(), out.position());
    }

    private static void assertReceived(DatagramSocket socket, byte[] expected) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        socket.receive(p);
        assertArrayEquals(expected, Arrays.copyOf(p.getData(), p.getLength()));
        assertEquals(new InetSocketAddress(PEER, PEER_PORT), p.getSocketAddress());
    }

    /** Reads until an IPv4 UDP packet to {@code port} (IPv6 link-local chatter may come first). */
    private static int readUdpTo(Tun tun, ByteBuffer in, int port) throws Exception {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            in.clear();
            int n = tun.read(in);
            if (n == 0) {
                tun.awaitReadable(100);
                continue;
            }
            assertEquals(n, in.position());
            int base = VnetHeader.SIZE;
            if ((in.get(base) & 0xF0) == 0x40 && in.get(base + 9) == Packets.UDP
                    && Packets.get16(in, base + 22) == port) {
                return n;
            }
        }
        return fail("no UDP packet to port " + port + " came out of the TUN");
    }

    /** Udp InCsumErrors from the namespace's /proc/net/snmp. */
    private long udpInCsumErrors() throws Exception {
        List<String> udp = ns.exec("cat", "/proc/net/snmp").lines().filter(l -> l.startsWith("Udp:")).toList();
        List<String> names = List.of(udp.get(0).split("\\s+"));
        String[] values = udp.get(1).split("\\s+");
        return Long.parseLong(values[names.indexOf("InCsumErrors")]);
    }
}
