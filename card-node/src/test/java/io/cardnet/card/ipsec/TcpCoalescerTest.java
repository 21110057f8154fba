package io.cardnet.card.ipsec;

import io.cardnet.netdev.InternetChecksum;
import io.cardnet.netdev.VnetHeader;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Joining a TCP flow's wire-sized segments into one GSO packet, and leaving alone what must not be joined. */
class TcpCoalescerTest {
    private static ByteBuffer segment(int seq, int payload, int flags) {
        ByteBuffer b = ByteBuffer.allocate(40 + payload);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload)).putShort((short) 7).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).putInt(0xC6120001).putInt(0xC6130001);
        b.putShort((short) 40000).putShort((short) 5001).putInt(seq).putInt(99).put((byte) 0x50).put((byte) flags)
                .putShort((short) 512).putShort((short) 0).putShort((short) 0);
        for (int i = 0; i < payload; i++) {
            b.put((byte) (seq + i));
        }
        return b.flip();
    }

    @Test
    void inOrderSegmentsBecomeOneGsoPacketWithEveryByteInPlace() {
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.add(segment(1000, 1392, 0x10)));
        assertTrue(c.add(segment(2392, 1392, 0x10)));
        assertTrue(c.add(segment(3784, 100, 0x18)), "a short PSH segment ends the run, joined");
        assertFalse(c.add(segment(3884, 1392, 0x10)), "nothing joins a run a PSH ended");
        ByteBuffer out = c.drain();
        VnetHeader v = VnetHeader.read(out, 0);
        assertEquals(VnetHeader.GSO_TCPV4, v.gsoType());
        assertEquals(1392, v.gsoSize());
        assertEquals(40, v.hdrLen());
        assertTrue(v.needsCsum());
        int ip = VnetHeader.SIZE;
        assertEquals(40 + 2884, out.getShort(ip + 2) & 0xffff);
        assertEquals(40 + 2884 + ip, out.limit());
        assertEquals(0xffff, InternetChecksum.sum(out, ip, 20, 0), "the IP header's checksum is right");
        assertEquals(0x18, out.get(ip + 33), "PSH carried over");
        for (int i = 0; i < 2884; i++) {
            assertEquals((byte) (1000 + i), out.get(ip + 40 + i), "payload byte " + i);
        }
        assertTrue(c.isEmpty());
    }

    @Test
    void aGapAnotherFlowAnAckOrASynIsNotJoined() {
        TcpCoalescer c = new TcpCoalescer();
        assertTrue(c.add(segment(1000, 1392, 0x10)));
        assertFalse(c.add(segment(9000, 1392, 0x10)), "a gap");
        ByteBuffer other = segment(2392, 1392, 0x10);
        other.putShort(22, (short) 5002);
        assertFalse(c.add(other), "another port");
        assertFalse(c.add(segment(2392, 0, 0x10)), "a pure ACK");
        ByteBuffer single = c.drain();
        assertEquals(0, VnetHeader.read(single, 0).flags(), "one segment passes as it came");
        assertEquals(40 + 1392 + VnetHeader.SIZE, single.limit());

        assertTrue(c.add(segment(1, 0, 0x02)), "a SYN passes alone");
        assertFalse(c.add(segment(1, 100, 0x10)));
        assertEquals(VnetHeader.GSO_NONE, VnetHeader.read(c.drain(), 0).gsoType());
    }
}
