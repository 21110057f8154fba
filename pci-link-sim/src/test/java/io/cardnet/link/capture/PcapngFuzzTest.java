package io.cardnet.link.capture;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pcapng writer with any packet (any captured part of it), original length, timestamp, direction flags and
 * comment: every block it writes parses back (the total length at both ends, 32-bit aligned, options inside the
 * block, the end-of-options last), carries the packet and flags it was given and a comment a reader can decode.
 * Fuzzed with tools/fuzz (docs/security.md).
 */
class PcapngFuzzTest {
    private static final int EPB = 6;

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void everyBlockParsesBack(FuzzedDataProvider in) {
        long nanos = in.consumeLong();
        int original = in.consumeInt();
        int flags = in.consumeInt();
        int snaplen = in.consumeInt();
        String comment = in.consumeBoolean() ? in.consumeString(512) : in.consumeString(70_000);
        byte[] bytes = in.consumeRemainingAsBytes();
        int from = bytes.length == 0 ? 0 : Math.floorMod(comment.length(), bytes.length);
        ByteBuffer packet = ByteBuffer.wrap(bytes, from, bytes.length - from).slice();

        List<ByteBuffer> header = blocks(Pcapng.fileHeader(snaplen));
        assertEquals(2, header.size(), "a section header and an interface description");
        List<ByteBuffer> blocks = blocks(Pcapng.packet(nanos, packet.duplicate(), original, flags, comment));
        assertEquals(1, blocks.size());
        ByteBuffer b = blocks.getFirst();
        assertEquals(EPB, b.getInt(0));
        int captured = b.getInt(20);
        assertEquals(packet.remaining(), captured);
        assertEquals(original, b.getInt(24));
        assertEquals(nanos, ((long) b.getInt(12) << 32) | (b.getInt(16) & 0xffffffffL));
        byte[] carried = new byte[captured];
        b.get(28, carried);
        assertArrayEquals(bytes.length == 0 ? new byte[0] : java.util.Arrays.copyOfRange(bytes, from, bytes.length), carried);
        // options: epb_flags, the comment, end of options; each inside the block, padded to 32 bits
        int at = 28 + ((captured + 3) & ~3);
        int end = b.limit() - 4;
        Integer gotFlags = null;
        String gotComment = null;
        boolean ended = false;
        while (at < end) {
            int code = Short.toUnsignedInt(b.getShort(at));
            int length = Short.toUnsignedInt(b.getShort(at + 2));
            assertTrue(at + 4 + length <= end, "option " + code + " of " + length + " bytes runs past the block");
            if (code == 0) {
                ended = true;
                assertEquals(end, at + 4, "end of options is the last option");
                break;
            }
            byte[] value = new byte[length];
            b.get(at + 4, value);
            if (code == 2) {
                gotFlags = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getInt();
            } else if (code == 1) {
                gotComment = new String(value, StandardCharsets.UTF_8);
            }
            at += 4 + ((length + 3) & ~3);
        }
        assertTrue(ended, "no end of options");
        assertEquals(flags, gotFlags);
        assertTrue(comment.equals(gotComment) || comment.length() > 0xFFFF / 4 && gotComment != null
                        && comment.startsWith(gotComment) && gotComment.getBytes(StandardCharsets.UTF_8).length <= 0xFFFF,
                "the comment a reader sees is the one written, or (past 65535 bytes) its beginning");
    }

    /** Longer than an option can say (65535 bytes), which fuzzing's 4 KiB inputs never reach. */
    @Test
    void aCommentPastAnOptionsLengthIsCutAtACharacter() {
        for (String c : new String[]{"x".repeat(70_000), "é".repeat(40_000), "x" + "€".repeat(30_000)}) {
            byte[] block = Pcapng.packet(1, ByteBuffer.wrap(new byte[20]), 20, Pcapng.INBOUND, c);
            ByteBuffer b = blocks(block).getFirst();
            int length = Short.toUnsignedInt(b.getShort(28 + 20 + 8 + 2));
            byte[] value = new byte[length];
            b.get(28 + 20 + 8 + 4, value);
            String got = new String(value, StandardCharsets.UTF_8);
            assertTrue(c.startsWith(got) && length > 0xFFFF - 4, "kept " + length + " bytes");
        }
    }

    /** Splits a writer's output into blocks, checking each one's framing. */
    private static List<ByteBuffer> blocks(byte[] out) {
        List<ByteBuffer> blocks = new ArrayList<>();
        ByteBuffer all = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        while (at < out.length) {
            assertTrue(out.length - at >= 12, "a block shorter than its framing");
            int total = all.getInt(at + 4);
            assertTrue(total >= 12 && total % 4 == 0, "block total length " + total + " is not 32-bit aligned");
            assertTrue(at + total <= out.length, "block of " + total + " bytes runs past the output");
            assertEquals(total, all.getInt(at + total - 4), "the total length at the block's end differs from its start");
            blocks.add(all.slice(at, total).order(ByteOrder.LITTLE_ENDIAN));
            at += total;
        }
        return blocks;
    }
}
