package io.cardnet.link.sim;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.FrameFault;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's check of a DESC from an end (DmaEngine.view) against any fields a hostile end can send: any
 * sequence, slot, length and epoch, over any bytes in the slot. It is decoded or refused with a reason, never
 * throws, and what it decodes lies inside the slot it named. Fuzzed with tools/fuzz (docs/security.md).
 */
class DescriptorFuzzTest {
    private static Path dir;
    private static DmaRegion region;

    @BeforeAll
    static void region() throws IOException {
        // a sparse file: only the pages the fuzzer writes take memory
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-fuzz");
        region = DmaRegion.create(dir.resolve("h2c.dma"));
    }

    @AfterAll
    static void close() throws IOException {
        region.close();
        Files.deleteIfExists(dir.resolve("h2c.dma"));
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void aDescIsDecodedOrRefused(FuzzedDataProvider in) {
        int depth = in.consumeInt(1, LinkSettings.MAX_RING);
        long sequence = in.consumeBoolean() ? in.consumeLong(0, 4 * LinkSettings.MAX_RING) : in.consumeLong();
        int slot = in.consumeBoolean() ? (int) (sequence % depth) : in.consumeInt();
        int length = in.consumeBoolean() ? in.consumeInt(0, DmaRegion.SLOT_BYTES + 1) : in.consumeInt();
        int epoch = in.consumeInt(0, 0xffff);
        byte[] bytes = in.consumeRemainingAsBytes();
        if (slot >= 0 && slot < DmaRegion.SLOTS) {
            // what the end wrote into the slot it names: any bytes, and now and then a well-formed IPv4 header
            ByteBuf s = region.slot(slot);
            s.writeBytes(bytes, 0, Math.min(bytes.length, s.writableBytes()));
            if (length >= Data.PACKET_OFFSET + 4 && length <= DmaRegion.SLOT_BYTES && bytes.length % 3 == 0) {
                s.setByte(Data.PACKET_OFFSET, 0x45);
                s.setShort(Data.PACKET_OFFSET + 2, length - Data.PACKET_OFFSET);
            }
        }
        Desc desc = new Desc(sequence, slot, length, epoch);
        switch (DmaEngine.view(desc, depth, region)) {
            case Decoded.Ok<Data>(Data d) -> {
                assertTrue(sequence >= 0 && slot == sequence % depth, desc + " decoded from the wrong slot");
                assertEquals(length, d.content().readableBytes(), "the frame is the descriptor's length");
                assertTrue(d.packetLength() >= Data.MIN_PACKET && d.packetLength() <= Data.MAX_PACKET, desc.toString());
                assertEquals(1, d.refCnt());
                assertTrue(d.release());
            }
            case Decoded.Refused<Data>(FrameFault fault) -> assertFalse(fault.detail().isBlank(), desc + " refused without a reason");
        }
    }
}
