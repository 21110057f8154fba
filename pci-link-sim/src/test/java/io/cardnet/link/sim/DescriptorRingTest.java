package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ring's books, without a simulator: slots, doorbells, credits back in ring order, overrun, discard. */
class DescriptorRingTest {
    private final List<Integer> credits = new ArrayList<>();

    static Data descriptor(long seq) {
        return Data.of(UnpooledByteBufAllocator.DEFAULT, seq, VnetHeader.none(), TestPackets.udp(new byte[8]));
    }

    private int creditsBack() {
        return credits.stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void onlyDescriptorsADoorbellCoversMove() {
        DescriptorRing ring = new DescriptorRing(8, credits::add);
        Data one = descriptor(1);
        Data two = descriptor(2);
        ring.post(one);
        ring.post(two);
        assertNull(ring.nextRung(), "posted but no doorbell yet");
        assertTrue(ring.unrung());
        ring.doorbell(1);
        assertSame(one, ring.nextRung());
        assertNull(ring.nextRung(), "descriptor 2 is beyond the doorbell's tail");
        ring.ringAll();
        assertSame(two, ring.nextRung());
        assertEquals(0, ring.waiting());
        one.release();
        two.release();
    }

    @Test
    void creditsComeBackInRingOrderNotInTheOrderTheConsumerFreesThem() {
        DescriptorRing ring = new DescriptorRing(4, credits::add);
        for (long s = 1; s <= 3; s++) {
            ring.post(descriptor(s));
        }
        ring.ringAll();
        List<Data> moved = List.of(ring.nextRung(), ring.nextRung(), ring.nextRung());
        // delivered out of order (the REORDER fault): 2, then 1, then 3
        assertEquals(1, ring.deliver(2));
        assertEquals(2, ring.deliver(1));
        assertEquals(3, ring.deliver(3));
        ring.consumed(1);
        assertEquals(List.of(), credits, "descriptor 2 is free, but 1 still holds the head");
        assertEquals(3, ring.occupancy());
        ring.consumed(2);
        assertEquals(List.of(2), credits, "1 and 2 together, once 1 is free");
        assertEquals(2, ring.head());
        ring.consumed(3);
        assertEquals(List.of(2, 1), credits);
        assertEquals(0, ring.occupancy());
        moved.forEach(Data::release);
    }

    @Test
    void aSlotIsNotReusedBeforeItsRxDone() {
        DescriptorRing ring = new DescriptorRing(2, credits::add);
        assertEquals(DescriptorRing.Admission.POSTED, ring.post(descriptor(1)));
        assertEquals(DescriptorRing.Admission.FILLED, ring.post(descriptor(2)));
        ring.ringAll();
        Data first = ring.nextRung();
        ring.deliver(first.sequence());
        // delivered, but the consumer may still be reading slot 1: sequence 3 (the same slot) is refused
        Data third = descriptor(3);
        assertEquals(DescriptorRing.Admission.OVERRUN, ring.post(third));
        third.release();
        ring.consumed(1);
        assertEquals(1, creditsBack());
        first.release();
        ring.nextRung().release();
    }

    @Test
    void anOverrunIsRefusedAndWrittenOffSoTheHeadGoesOn() {
        DescriptorRing ring = new DescriptorRing(2, credits::add);
        ring.post(descriptor(1));
        ring.post(descriptor(2));
        for (long s = 3; s <= 4; s++) {
            Data refused = descriptor(s);
            assertEquals(DescriptorRing.Admission.OVERRUN, ring.post(refused));
            refused.release();
        }
        assertEquals(2, ring.occupancy(), "refused descriptors take no slot while the ring is full");
        ring.ringAll();
        for (long s = 1; s <= 2; s++) {
            Data d = ring.nextRung();
            ring.deliver(d.sequence());
            d.release();
        }
        ring.consumed(2);
        // 1 and 2 free their slots; 3 and 4, written off, take them already done, and the head passes them too
        assertEquals(4, ring.head());
        assertEquals(4, creditsBack(), "every credit the producer spent comes back, the refused ones too");
        assertEquals(0, ring.occupancy());
        assertEquals(DescriptorRing.Admission.POSTED, ring.post(descriptor(5)), "the ring works on");
        ring.clear();
    }

    @Test
    void discardKeepsTheHeadMoving() {
        DescriptorRing ring = new DescriptorRing(8, credits::add);
        ring.post(descriptor(1));
        ring.discard(2, 4);          // 2 and 3 were malformed: the producer spent credits on them
        ring.post(descriptor(4));
        ring.ringAll();
        Data one = ring.nextRung();
        Data four = ring.nextRung();
        assertEquals(4, ring.occupancy());
        ring.deliver(1);
        ring.deliver(4);
        ring.consumed(1);
        assertEquals(3, ring.head(), "1 consumed, 2 and 3 written off");
        ring.consumed(2);
        assertEquals(4, ring.head());
        assertEquals(4, creditsBack());
        one.release();
        four.release();
    }

    @Test
    void aDroppedDescriptorGivesItsCreditBackInOrder() {
        DescriptorRing ring = new DescriptorRing(8, credits::add);
        ring.post(descriptor(1));
        ring.post(descriptor(2));
        ring.ringAll();
        Data one = ring.nextRung();
        Data two = ring.nextRung();
        ring.dropped(2);
        assertEquals(0, creditsBack(), "2 is done, but 1 is still out");
        ring.deliver(1);
        ring.consumed(1);
        assertEquals(List.of(2), credits);
        one.release();
        two.release();
    }

    @Test
    void clearReleasesWhatWaited() {
        DescriptorRing ring = new DescriptorRing(8, credits::add);
        Data one = descriptor(1);
        ring.post(one);
        assertEquals(1, ring.clear());
        assertEquals(0, one.refCnt());
    }
}
