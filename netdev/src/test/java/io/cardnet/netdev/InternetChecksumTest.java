package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class InternetChecksumTest {
    private static final HexFormat HEX = HexFormat.of();

    /** Every buffer flavour: heap/direct x big/little endian, data placed at {@code offset}. */
    private static ByteBuffer[] buffers(byte[] data, int offset, int slack) {
        ByteBuffer[] out = new ByteBuffer[4];
        int i = 0;
        for (boolean direct : new boolean[] {false, true}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                ByteBuffer b = direct ? ByteBuffer.allocateDirect(offset + data.length + slack)
                        : ByteBuffer.allocate(offset + data.length + slack);
                b.order(order).put(offset, data);
                out[i++] = b;
            }
        }
        return out;
    }

    @Test
    void rfc1071Example() {
        // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, folded ddf2, checksum 220d.
        byte[] data = HEX.parseHex("0001f203f4f5f6f7");
        for (ByteBuffer b : buffers(data, 3, 5)) {
            assertEquals(0xDDF2, InternetChecksum.sum(b, 3, 8, 0), b.toString() + b.order());
            assertEquals((short) 0x220D, InternetChecksum.finish(InternetChecksum.sum(b, 3, 8, 0)));
        }
    }

    @Test
    void ipv4HeaderVector() {
        // A classic example header whose checksum is b861.
        byte[] header = HEX.parseHex("450000730000400040110000c0a80001c0a800c7");
        for (ByteBuffer b : buffers(header, 0, 0)) {
            assertEquals((short) 0xB861, InternetChecksum.finish(InternetChecksum.sum(b, 0, 20, 0)));
        }
        header[10] = (byte) 0xB8;
        header[11] = 0x61;
        for (ByteBuffer b : buffers(header, 1, 1)) {
            assertEquals(0xFFFF, InternetChecksum.sum(b, 1, 20, 0), "a correct header sums to 0xffff");
        }
    }

    @Test
    void matchesNaiveImplementationOnRandomData() {
        Random random = new Random(1071);
        for (int iteration = 0; iteration < 3000; iteration++) {
            int length = iteration < 2000 ? random.nextInt(200) : random.nextInt(70_000);
            int offset = random.nextInt(16);
            byte[] data = new byte[length];
            random.nextBytes(data);
            if (iteration % 7 == 0) {
                java.util.Arrays.fill(data, (byte) 0xFF); // worst case for carries
            }
            int initial = iteration % 3 == 0 ? 0 : random.nextInt();
            // The naive version sums from the unsigned 32-bit initial, too.
            int expected = Packets.refSum(data, 0, length, initial);
            for (ByteBuffer b : buffers(data, offset, random.nextInt(9))) {
                assertEquals(expected, InternetChecksum.sum(b, offset, length, initial),
                        "length " + length + " offset " + offset + " " + b.order() + " direct " + b.isDirect());
            }
        }
    }

    @Test
    void partialSumsChainAcrossEvenSplits() {
        Random random = new Random(7);
        byte[] data = new byte[1001];
        random.nextBytes(data);
        ByteBuffer b = ByteBuffer.wrap(data);
        for (int split = 0; split <= 1000; split += 2) {
            int first = InternetChecksum.sum(b, 0, split, 0);
            assertEquals(InternetChecksum.sum(b, 0, data.length, 0), InternetChecksum.sum(b, split, data.length - split, first));
        }
    }

    @Test
    void sumLeavesBufferStateAlone() {
        ByteBuffer b = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN).position(5).limit(60);
        InternetChecksum.sum(b, 7, 40, 0);
        assertEquals(5, b.position());
        assertEquals(60, b.limit());
        assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
        assertThrows(IndexOutOfBoundsException.class, () -> InternetChecksum.sum(b, 30, 31, 0));
    }

    @Test
    void pseudoHeaderMatchesNaive() {
        byte[] ip = Packets.ipv4(Packets.addr("198.18.0.2"), Packets.addr("198.18.0.1"), Packets.UDP,
                Packets.udp(9999, 40000, new byte[77]));
        assertEquals(Packets.refPseudo(ip), InternetChecksum.pseudoHeaderSumV4(Packets.addr("198.18.0.2"),
                Packets.addr("198.18.0.1"), Packets.UDP, ip.length - 20));
        Random random = new Random(3);
        for (int i = 0; i < 1000; i++) {
            int src = random.nextInt();
            int dst = random.nextInt();
            int len = random.nextInt(65536);
            byte[] pseudo = new byte[12];
            Packets.put32(pseudo, 0, src);
            Packets.put32(pseudo, 4, dst);
            pseudo[9] = Packets.TCP;
            Packets.put16(pseudo, 10, len);
            assertEquals(Packets.refSum(pseudo, 0, 12, 0), InternetChecksum.pseudoHeaderSumV4(src, dst, Packets.TCP, len));
        }
    }

    @Test
    void verifiesHandBuiltTcpAndUdpPackets() {
        Random random = new Random(42);
        for (int i = 0; i < 500; i++) {
            byte[] payload = new byte[random.nextInt(1500)]; // odd lengths included
            random.nextBytes(payload);
            boolean tcp = random.nextBoolean();
            byte[] l4 = tcp ? Packets.tcp(40000 + i, 443, random.nextInt(), random.nextInt(), payload)
                    : Packets.udp(40000 + i, 53, payload);
            byte[] ip = Packets.ipv4(random.nextInt(), random.nextInt(), tcp ? Packets.TCP : Packets.UDP, l4);
            Packets.fillL4Checksum(ip);
            int offset = random.nextInt(12);
            for (ByteBuffer b : buffers(ip, offset, 3)) {
                b.position(offset).limit(offset + ip.length);
                assertTrue(InternetChecksum.verifyTcpUdpV4(b), "packet " + i);
                int victim = offset + 20 + random.nextInt(ip.length - 20);
                b.put(victim, (byte) (b.get(victim) ^ 0x5A));
                assertFalse(InternetChecksum.verifyTcpUdpV4(b), "corrupted packet " + i);
                assertEquals(offset, b.position());
            }
        }
    }

    @Test
    void verifyTreatsUdpChecksumZeroAsAbsentAndRejectsOtherPackets() {
        byte[] ip = Packets.ipv4(Packets.addr("10.0.0.1"), Packets.addr("10.0.0.2"), Packets.UDP,
                Packets.udp(1, 2, "x".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(InternetChecksum.verifyTcpUdpV4(ByteBuffer.wrap(ip)));
        byte[] icmp = Packets.ipv4(1, 2, 1, new byte[8]);
        assertThrows(IllegalArgumentException.class, () -> InternetChecksum.verifyTcpUdpV4(ByteBuffer.wrap(icmp)));
        byte[] truncated = java.util.Arrays.copyOf(ip, ip.length - 1);
        assertThrows(IllegalArgumentException.class, () -> InternetChecksum.verifyTcpUdpV4(ByteBuffer.wrap(truncated)));
        byte[] fragment = ip.clone();
        fragment[6] = 0x20; // MF
        assertThrows(IllegalArgumentException.class, () -> InternetChecksum.verifyTcpUdpV4(ByteBuffer.wrap(fragment)));
    }

    @Test
    void completePartialMatchesFullChecksum() {
        Random random = new Random(1234);
        for (int i = 0; i < 500; i++) {
            byte[] payload = new byte[random.nextInt(3000)];
            random.nextBytes(payload);
            boolean tcp = i % 2 == 0;
            byte[] l4 = tcp ? Packets.tcp(1000, 2000, random.nextInt(), random.nextInt(), payload)
                    : Packets.udp(1000, 2000, payload);
            byte[] expected = Packets.ipv4(random.nextInt(), random.nextInt(), tcp ? Packets.TCP : Packets.UDP, l4);
            byte[] partial = expected.clone();
            Packets.fillL4Checksum(expected);
            // What a TUN reader gets with NEEDS_CSUM: the field holds the folded pseudo-header sum.
            int field = 20 + Packets.checksumOffset(partial[9]);
            Packets.put16(partial, field, Packets.refPseudo(partial));
            for (ByteBuffer b : buffers(partial, VnetHeader.SIZE, 0)) {
                b.position(VnetHeader.SIZE); // packet after a vnet header, as read from a TUN
                InternetChecksum.completePartial(b, 20, Packets.checksumOffset(partial[9]));
                byte[] got = new byte[expected.length];
                b.get(VnetHeader.SIZE, got);
                assertEquals(HEX.formatHex(expected), HEX.formatHex(got), "packet " + i);
                assertTrue(InternetChecksum.verifyTcpUdpV4(b));
            }
        }
    }

    @Test
    void completePartialRefusesOffsetsThatWrapAround() {
        // found by reading VnetHeaderFuzzTest's target: an int csum_start near its maximum wrapped into the packet
        ByteBuffer b = ByteBuffer.wrap(new byte[64]).position(1);
        for (int[] bad : new int[][]{{Integer.MAX_VALUE, 0}, {0, Integer.MAX_VALUE}, {Integer.MAX_VALUE, Integer.MAX_VALUE}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InternetChecksum.completePartial(b, bad[0], bad[1]));
            assertTrue(e.getMessage().startsWith("csum_start "), e.getMessage());
        }
    }

    @Test
    void completePartialStoresZeroAsFfff() {
        byte[] ip = Packets.ipv4(Packets.addr("198.18.0.2"), Packets.addr("198.18.0.1"), Packets.UDP,
                Packets.udp(9999, 40000, new byte[2]));
        int field = 20 + 6;
        // Choose the two payload bytes so that the whole sum folds to 0xffff, i.e. checksum 0.
        Packets.put16(ip, field, Packets.refPseudo(ip));
        int partialSum = Packets.refSum(ip, 20, ip.length - 20, 0);
        Packets.put16(ip, 28, 0xFFFF - partialSum);
        assertEquals(0xFFFF, Packets.refSum(ip, 20, ip.length - 20, 0));
        ByteBuffer b = ByteBuffer.wrap(ip);
        InternetChecksum.completePartial(b, 20, 6);
        assertEquals(0xFFFF, Packets.get16(ip, field));
        assertTrue(InternetChecksum.verifyTcpUdpV4(b));
    }

    @Test
    void completePartialRejectsOffsetsOutsideThePacket() {
        ByteBuffer b = ByteBuffer.allocate(30);
        assertThrows(IllegalArgumentException.class, () -> InternetChecksum.completePartial(b, 20, 9));
        assertThrows(IllegalArgumentException.class, () -> InternetChecksum.completePartial(b, 30, 0));
    }

    @Test
    void finishFoldsAndComplements() {
        assertEquals((short) 0xFFFF, InternetChecksum.finish(0));
        assertEquals((short) 0x0000, InternetChecksum.finish(0xFFFF));
        assertEquals((short) ~0x0003, InternetChecksum.finish(0x20001)); // 2 + 1 after folding
    }
}
