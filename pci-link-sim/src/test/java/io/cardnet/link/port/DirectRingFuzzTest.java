package io.cardnet.link.port;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
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
 * A consumer's look at a direct ring (shared memory, SharedRing) whose producer is hostile: any published tail,
 * any entry (frame length, epoch tag) for any sequence, any bytes in the slots. The consumer follows only a tail
 * within a ring of what it consumed, and each descriptor is decoded or refused with a reason, never throws, and
 * what it decodes is the entry's length. Fuzzed with tools/fuzz (docs/security.md).
 */
class DirectRingFuzzTest {
    /** Descriptors looked at per input at most: the consumer's budget, small to keep executions fast. */
    private static final int LOOK = 64;
    private static Path dir;
    private static SharedRing ring;
    private static DmaRegion region;

    @BeforeAll
    static void open() throws IOException {
        dir = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-fuzz");
        ring = SharedRing.create(dir.resolve("c2h-0.ring"));
        region = DmaRegion.create(dir.resolve("c2h.dma"));
    }

    @AfterAll
    static void close() throws IOException {
        ring.close();
        region.close();
        Files.deleteIfExists(dir.resolve("c2h-0.ring"));
        Files.deleteIfExists(dir.resolve("c2h.dma"));
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void aHostileProducersRingIsConsumedOrRefused(FuzzedDataProvider in) {
        int depth = in.consumeInt(1, LinkSettings.MAX_RING);
        int queue = in.consumeInt(0, DmaRegion.SLOTS / depth - 1);
        int epochTag = in.consumeInt(0, 0xffff);
        long processed = in.consumeLong(0, (1L << 48) - 1);
        // the producer: entries for a few sequences near the consumer, and a tail
        int entries = in.consumeInt(0, 8);
        for (int i = 0; i < entries; i++) {
            long seq = processed + 1 + in.consumeInt(0, depth);
            int length = in.consumeBoolean() ? in.consumeInt(0, Data.PACKET_OFFSET + Data.MAX_PACKET + 1) : in.consumeInt();
            ring.describe(seq, depth, length, in.consumeBoolean() ? epochTag : in.consumeInt(0, 0xffff));
            ByteBuf slot = region.slot(SharedRing.slotBase(queue, depth) + (int) (seq % depth));
            byte[] bytes = in.consumeBytes(128);
            slot.writeBytes(bytes);
            if (length >= Data.PACKET_OFFSET + 4 && length <= DmaRegion.SLOT_BYTES && in.consumeBoolean()) {
                slot.setByte(Data.PACKET_OFFSET, 0x45);
                slot.setShort(Data.PACKET_OFFSET + 2, length - Data.PACKET_OFFSET);
            }
        }
        long tail = in.consumeBoolean() ? SharedRing.pack(epochTag, processed + in.consumeInt(-2, depth + 2)) : in.consumeLong();
        ring.publish(tail);

        // the consumer, as DirectRing.poll reads it
        long t = ring.tail();
        long upTo = SharedRing.epochOf(t) == epochTag ? SharedRing.sequenceOf(t) : processed;
        if (!DirectRing.tailInRange(upTo, processed, depth)) {
            assertTrue(upTo < processed || upTo - processed > depth, "tail " + upTo + " refused after " + processed);
            return;
        }
        for (long seq = processed + 1; seq <= Math.min(upTo, processed + LOOK); seq++) {
            switch (DirectRing.view(ring, region, SharedRing.slotBase(queue, depth), depth, epochTag, seq)) {
                case Decoded.Ok<Data>(Data d) -> {
                    assertEquals(epochTag, ring.epochTag(seq, depth), "decoded a descriptor of another epoch");
                    assertEquals(ring.frameLength(seq, depth), d.content().readableBytes(), "the entry's length");
                    assertTrue(d.packetLength() >= Data.MIN_PACKET && d.packetLength() <= Data.MAX_PACKET);
                    assertTrue(d.release());
                }
                case Decoded.Refused<Data>(FrameFault fault) -> assertFalse(fault.detail().isBlank());
            }
        }
    }
}
