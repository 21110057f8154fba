package io.cardnet.card.ipsec;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ESP sealing and opening on real bytes with the JDK's AES-GCM: round trip, and every refusal counted by kind. */
class EspCodecTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path tmp;

    private static TunnelKeys keys() {
        return TunnelKeys.generate(EspProposal.AES256GCM16, "198.19.0.2", "198.19.0.1", "198.18.0.0/30",
                "198.19.0.0/24", RANDOM);
    }

    private static byte[] packet(int size) {
        byte[] p = new byte[size];
        RANDOM.nextBytes(p);
        p[0] = 0x45;
        return p;
    }

    private static ByteBuffer seal(EspCodec c, byte[] inner) throws Exception {
        ByteBuffer out = ByteBuffer.allocate(inner.length + 64);
        c.seal(ByteBuffer.wrap(inner), out);
        return out.flip();
    }

    private static byte[] open(EspCodec c, ByteBuffer esp) throws EspCodec.Refused {
        ByteBuffer out = ByteBuffer.allocate(esp.remaining());
        int n = c.open(esp.duplicate(), out);
        return Arrays.copyOfRange(out.array(), out.position(), out.position() + n);
    }

    @Test
    void whatOneEndSealsTheOtherOpensByteForByteAndTheWireNeverShowsThePlaintext() throws Exception {
        TunnelKeys k = keys();
        EspCodec card = new EspCodec(k.toPeer(), k.esp());
        EspCodec peer = new EspCodec(k.toPeer(), k.esp());
        for (int size : new int[]{20, 21, 22, 23, 84, 1432}) {
            byte[] inner = packet(size);
            ByteBuffer esp = seal(card, inner);
            assertEquals(0, esp.remaining() % 4, "ESP is 4-byte aligned");
            assertTrue(esp.remaining() <= size + EspCodec.OVERHEAD);
            assertEquals(k.toPeer().spi(), esp.getInt(0));
            assertFalse(Bytes.contains(esp, Arrays.copyOf(inner, 16)), "the inner bytes appear in the clear");
            assertArrayEquals(inner, open(peer, esp));
        }
    }

    @Test
    void aReplayedAnAlteredAForeignOrAShortPacketIsRefusedWithItsReason() throws Exception {
        TunnelKeys k = keys();
        EspCodec sender = new EspCodec(k.toPeer(), k.esp());
        EspCodec receiver = new EspCodec(k.toPeer(), k.esp());
        ByteBuffer first = seal(sender, packet(100));
        open(receiver, first);
        assertEquals(EspCodec.Refusal.REPLAYED, assertThrows(EspCodec.Refused.class, () -> open(receiver, first)).reason());

        ByteBuffer altered = seal(sender, packet(100));
        altered.put(40, (byte) (altered.get(40) ^ 1));
        assertEquals(EspCodec.Refusal.AUTHENTICATION,
                assertThrows(EspCodec.Refused.class, () -> open(receiver, altered)).reason());

        TunnelKeys other = keys();
        EspCodec stranger = new EspCodec(new TunnelKeys.Sa(k.toPeer().spi(), other.toPeer().key()), k.esp());
        for (int i = 0; i < 3; i++) {
            seal(stranger, packet(10));    // past the sequences the receiver has seen: only the key is wrong
        }
        ByteBuffer forged = seal(stranger, packet(100));
        assertEquals(EspCodec.Refusal.AUTHENTICATION,
                assertThrows(EspCodec.Refused.class, () -> open(receiver, forged)).reason(), "another key");
        ByteBuffer foreign = seal(new EspCodec(k.toCard(), k.esp()), packet(100));
        assertEquals(EspCodec.Refusal.UNKNOWN_SPI, assertThrows(EspCodec.Refused.class, () -> open(receiver, foreign)).reason());
        assertEquals(EspCodec.Refusal.MALFORMED,
                assertThrows(EspCodec.Refused.class, () -> open(receiver, ByteBuffer.allocate(12))).reason());
    }

    @Test
    void packetsOutOfOrderWithinTheWindowAreTakenOnceEach() throws Exception {
        TunnelKeys k = keys();
        EspCodec sender = new EspCodec(k.toPeer(), k.esp());
        EspCodec receiver = new EspCodec(k.toPeer(), k.esp());
        ByteBuffer[] sealed = new ByteBuffer[70];
        for (int i = 0; i < sealed.length; i++) {
            sealed[i] = seal(sender, packet(60));
        }
        open(receiver, sealed[5]);
        open(receiver, sealed[3]);          // late, inside the window: taken
        open(receiver, sealed[69]);
        assertEquals(EspCodec.Refusal.REPLAYED, assertThrows(EspCodec.Refused.class, () -> open(receiver, sealed[3])).reason());
        assertEquals(EspCodec.Refusal.REPLAYED, assertThrows(EspCodec.Refused.class, () -> open(receiver, sealed[4])).reason(),
                "65 behind the newest: outside the 64-packet window");
        open(receiver, sealed[68]);
    }

    @Test
    void theKeysFileIsTheOwnersOnlyAndReadsBackAsWritten() throws Exception {
        TunnelKeys k = keys();
        Path f = tmp.resolve("ipsec.keys");
        k.write(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        TunnelKeys back = TunnelKeys.read(f);
        assertEquals(k.toPeer().spi(), back.toPeer().spi());
        assertArrayEquals(k.toCard().key(), back.toCard().key());
        assertEquals(k.peerPrefix(), back.peerPrefix());
        assertNotEquals(k.toPeer().spi(), keys().toPeer().spi(), "every boot gets its own SAs");
        assertFalse(k.toString().contains(java.util.HexFormat.of().formatHex(k.toPeer().key())), "toString shows no key");
        Files.writeString(f, Files.readString(f).replaceAll("to-card.key=.*", "to-card.key=0x00"));
        assertTrue(assertThrows(java.io.IOException.class, () -> TunnelKeys.read(f)).getMessage().contains("to-card.key"));
    }

    /** Whether {@code needle} occurs in the buffer's remaining bytes. */
    private static final class Bytes {
        static boolean contains(ByteBuffer b, byte[] needle) {
            byte[] hay = new byte[b.remaining()];
            b.duplicate().get(hay);
            for (int i = 0; i + needle.length <= hay.length; i++) {
                if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                    return true;
                }
            }
            return false;
        }
    }
}
