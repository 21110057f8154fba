package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class VnetHeaderTest {

    @Test
    void writesVirtio10LittleEndianLayout() {
        VnetHeader h = new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM, VnetHeader.GSO_TCPV4 | VnetHeader.GSO_ECN,
                54, 1448, 34, 16);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            ByteBuffer b = ByteBuffer.allocate(13).order(order);
            h.write(b, 3);
            byte[] bytes = new byte[10];
            b.get(3, bytes);
            // flags, gso_type, hdr_len=54, gso_size=1448 (0x05a8), csum_start=34, csum_offset=16
            assertEquals("0181" + "3600" + "a805" + "2200" + "1000", HexFormat.of().formatHex(bytes));
            assertEquals(h, VnetHeader.read(b, 3));
            assertEquals(0, b.position());
        }
    }

    @Test
    void roundTripsExtremes() {
        ByteBuffer b = ByteBuffer.allocateDirect(VnetHeader.SIZE);
        VnetHeader max = new VnetHeader(255, 255, 65535, 65535, 65535, 65535);
        max.write(b, 0);
        assertEquals(max, VnetHeader.read(b, 0));
        VnetHeader.none().write(b, 0);
        assertEquals(VnetHeader.none(), VnetHeader.read(b, 0));
        assertEquals(new VnetHeader(0, 0, 0, 0, 0, 0), VnetHeader.none());
    }

    @Test
    void flagsAndGsoHelpers() {
        VnetHeader h = new VnetHeader(VnetHeader.FLAG_DATA_VALID, VnetHeader.GSO_ECN, 0, 0, 0, 0);
        assertTrue(h.dataValid());
        assertFalse(h.needsCsum());
        assertFalse(h.isGso());
        assertTrue(new VnetHeader(0, VnetHeader.GSO_UDP, 42, 1400, 0, 0).isGso());
        assertEquals(10, VnetHeader.SIZE);
        assertEquals(4, VnetHeader.GSO_TCPV6);
    }

    @Test
    void rejectsOutOfRangeFields() {
        assertThrows(IllegalArgumentException.class, () -> new VnetHeader(256, 0, 0, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VnetHeader(0, 0, 0, 65536, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VnetHeader(0, 0, 0, 0, -1, 0));
    }
}
