package io.cardnet.link.capture;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The pcapng blocks a bus capture needs (IETF draft-ietf-opsawg-pcapng): a section header, one interface
 * (link type 101, raw IP: every packet starts with its IP header) with nanosecond timestamps, and enhanced
 * packet blocks carrying the direction in {@code epb_flags} and the descriptor's metadata in a comment.
 * Little-endian, as the section header's byte-order magic says.
 */
public final class Pcapng {
    public static final int LINKTYPE_RAW = 101;
    /** epb_flags direction bits, seen from the host: toward the card is outbound. */
    public static final int INBOUND = 1;
    public static final int OUTBOUND = 2;

    private static final int SHB = 0x0A0D0D0A;
    private static final int IDB = 0x00000001;
    private static final int EPB = 0x00000006;
    private static final short OPT_END = 0;
    private static final short OPT_COMMENT = 1;
    private static final short SHB_USERAPPL = 4;
    private static final short IF_NAME = 2;
    private static final short IF_TSRESOL = 9;
    private static final short EPB_FLAGS = 2;

    private Pcapng() {
    }

    /** Section header and interface description: the start of every capture file. */
    public static byte[] fileHeader(int snaplen) {
        byte[] app = "cardnet pci-link-sim".getBytes(StandardCharsets.UTF_8);
        ByteBuffer shb = block(SHB, 16 + option(app.length) + 4);
        shb.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L);
        putOption(shb, SHB_USERAPPL, app);
        shb.putShort(OPT_END).putShort((short) 0);
        ByteBuffer idb = block(IDB, 8 + option(7) + option(1) + 4);
        byte[] name = "pci-bus".getBytes(StandardCharsets.UTF_8);
        idb.putShort((short) LINKTYPE_RAW).putShort((short) 0).putInt(snaplen);
        putOption(idb, IF_NAME, name);
        putOption(idb, IF_TSRESOL, new byte[]{9});
        idb.putShort(OPT_END).putShort((short) 0);
        byte[] a = finish(shb);
        byte[] b = finish(idb);
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * One packet: {@code captured} bytes of it from {@code packet} (position..limit is the captured part),
     * its original length, a timestamp in nanoseconds since the epoch, direction flags and a comment.
     */
    public static byte[] packet(long epochNanos, ByteBuffer packet, int originalLength, int directionFlags, String comment) {
        int captured = packet.remaining();
        byte[] c = optionValue(comment);
        ByteBuffer epb = block(EPB, 20 + pad(captured) + option(4) + option(c.length) + 4);
        epb.putInt(0).putInt((int) (epochNanos >>> 32)).putInt((int) epochNanos).putInt(captured).putInt(originalLength);
        epb.put(packet);
        epb.position(epb.position() + pad(captured) - captured);
        ByteBuffer flags = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(directionFlags);
        putOption(epb, EPB_FLAGS, flags.array());
        putOption(epb, OPT_COMMENT, c);
        epb.putShort(OPT_END).putShort((short) 0);
        return finish(epb);
    }

    /**
     * A comment as an option value: an option's length is 16 bits, so a longer comment is cut to its first
     * 65535 bytes, at a character boundary (a reader decodes what remains).
     */
    static byte[] optionValue(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        if (b.length <= 0xFFFF) {
            return b;
        }
        int n = 0xFFFF;
        while (n > 0 && (b[n] & 0xC0) == 0x80) {
            n--; // b[n] continues a character that began before it: cut before that character
        }
        return java.util.Arrays.copyOf(b, n);
    }

    private static ByteBuffer block(int type, int body) {
        int total = 12 + body;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(total);
        return b;
    }

    private static byte[] finish(ByteBuffer b) {
        b.putInt(b.capacity());
        return b.array();
    }

    private static int option(int valueLength) {
        return 4 + pad(valueLength);
    }

    private static void putOption(ByteBuffer b, short code, byte[] value) {
        b.putShort(code).putShort((short) value.length).put(value);
        b.position(b.position() + pad(value.length) - value.length);
    }

    private static int pad(int n) {
        return (n + 3) & ~3;
    }
}
