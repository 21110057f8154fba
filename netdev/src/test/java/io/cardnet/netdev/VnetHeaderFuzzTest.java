package io.cardnet.netdev;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The virtio-net header and the checksum offsets it names, against any bytes: a header read from any 10 bytes
 * writes back the same bytes (whatever the buffer's byte order), a header built from out-of-range fields is
 * refused naming the field, and finishing a partial checksum with any csum_start and csum_offset either writes
 * exactly the two checksum bytes inside the packet or is refused; nothing else is thrown. Fuzzed with
 * tools/fuzz (docs/security.md).
 */
class VnetHeaderFuzzTest {

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void anyHeaderOnAnyPacketIsReadOrRefused(FuzzedDataProvider in) {
        ByteOrder order = in.consumeBoolean() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        byte[] raw = in.consumeBytes(VnetHeader.SIZE);
        if (raw.length == VnetHeader.SIZE) {
            ByteBuffer b = ByteBuffer.wrap(raw.clone()).order(order);
            VnetHeader h = VnetHeader.read(b, 0);
            ByteBuffer back = ByteBuffer.allocate(VnetHeader.SIZE).order(order);
            h.write(back, 0);
            assertArrayEquals(raw, back.array(), "read then write changed the header: " + h);
        }
        int[] fields = {in.consumeInt(), in.consumeInt(), in.consumeInt(), in.consumeInt(), in.consumeInt(), in.consumeInt()};
        if (in.consumeBoolean()) {
            for (int i = 0; i < fields.length; i++) {
                fields[i] = in.consumeInt(-1, 0x10000);
            }
        }
        try {
            VnetHeader h = new VnetHeader(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
            assertTrue(fields[0] <= 0xff && fields[1] <= 0xff, "accepted " + h);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains(" is not in 0.."), e.getMessage());
        }

        int csumStart = in.consumeBoolean() ? in.consumeInt(0, 0xffff) : in.consumeInt();
        int csumOffset = in.consumeBoolean() ? in.consumeInt(0, 0xffff) : in.consumeInt();
        int position = in.consumeInt(0, 64);
        byte[] packet = in.consumeRemainingAsBytes();
        ByteBuffer p = ByteBuffer.wrap(packet.clone()).order(order);
        p.position(Math.min(position, packet.length));
        int from = p.position();
        try {
            InternetChecksum.completePartial(p, csumStart, csumOffset);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("csum_start "), e.getMessage());
            assertArrayEquals(packet, p.array(), "a refused completion wrote into the packet");
            return;
        } catch (RuntimeException e) {
            fail("csum_start " + csumStart + " csum_offset " + csumOffset + " on " + (packet.length - from)
                    + " bytes threw " + e, e);
        }
        long field = (long) from + csumStart + csumOffset;
        assertTrue(csumStart >= 0 && csumOffset >= 0 && field + 2 <= packet.length, "completed a field outside the packet");
        assertEquals(from, p.position(), "the packet's position moved");
        for (int i = 0; i < packet.length; i++) {
            if (i != field && i != field + 1) {
                assertEquals(packet[i], p.get(i), "byte " + i + " changed; only the checksum field may");
            }
        }
    }
}
