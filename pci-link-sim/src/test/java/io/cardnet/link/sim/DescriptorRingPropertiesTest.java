package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring's invariants under any interleaving of a producer (posting with its credits, now and then past
 * them or with a malformed descriptor), doorbells, an engine that delivers, drops or reorders, and a consumer
 * that frees its receive ring whenever it likes. Each case is a random script from its seed, so a failure
 * names the seed that repeats it.
 */
class DescriptorRingPropertiesTest {

    private enum Fate { POSTED, DELIVERED, CONSUMED, DROPPED, DISCARDED, REFUSED }

    private static final Set<Fate> FREE = Set.of(Fate.CONSUMED, Fate.DROPPED, Fate.DISCARDED, Fate.REFUSED);

    static LongStream seeds() {
        return LongStream.range(0, 400);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void creditsComeBackInRingOrderAndNoSlotIsReusedBeforeItsRxDone(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int depth = random.nextInt(1, 7);
        int[] script = random.ints(random.nextInt(0, 201), 0, 8).toArray();
        Map<Long, Fate> fate = new HashMap<>();
        Map<Long, Long> byReceive = new HashMap<>();
        long[] returned = {0};
        DescriptorRing[] holder = new DescriptorRing[1];
        DescriptorRing ring = new DescriptorRing(depth, k -> {
            // credits come back for the sequences just behind the new head, and only for finished ones
            long newHead = holder[0].head();
            for (long s = newHead - k + 1; s <= newHead; s++) {
                assertTrue(FREE.contains(fate.get(s)), "credit for " + s + " returned while it is " + fate.get(s));
            }
            returned[0] += k;
        });
        holder[0] = ring;
        ArrayDeque<Data> rung = new ArrayDeque<>();
        long next = 1;
        long credits = depth;
        for (int op : script) {
            switch (op) {
                case 0, 1 -> {                               // the producer posts, with a credit
                    if (credits > 0) {
                        next = post(ring, fate, next);
                        credits--;
                    }
                }
                case 2 -> {                                  // a buggy producer posts past its credits (bounded)
                    if (credits > -depth) {
                        next = post(ring, fate, next);
                        credits--;
                    }
                }
                case 3 -> {                                  // a malformed descriptor: its credit is spent, it never arrives
                    if (credits > 0) {
                        fate.put(next, Fate.DISCARDED);
                        ring.discard(next++);
                        credits--;
                    }
                }
                case 4 -> ring.doorbell(next - 1);
                case 5 -> {                                  // the engine moves what is rung: deliver, drop or hold one back
                    for (Data d = ring.nextRung(); d != null; d = ring.nextRung()) {
                        rung.add(d);
                    }
                    Data d = (rung.size() > 1 && (next & 1) == 0) ? rung.pollLast() : rung.pollFirst();
                    if (d != null) {
                        long seq = d.sequence();
                        d.release();
                        if (seq % 5 == 0) {
                            fate.put(seq, Fate.DROPPED);
                            ring.dropped(seq);
                        } else {
                            fate.put(seq, Fate.DELIVERED);
                            byReceive.put(ring.deliver(seq), seq);
                        }
                    }
                }
                default -> {                                 // the consumer's RX_DONE for part of what it received
                    long upTo = ring.received() - (op == 6 ? 1 : 0);
                    for (long rx = 1; rx <= upTo; rx++) {
                        fate.put(byReceive.get(rx), Fate.CONSUMED);
                    }
                    ring.consumed(upTo);
                }
            }
            credits += takeReturned(returned);
            assertTrue(ring.occupancy() >= 0 && ring.occupancy() <= depth, "occupancy " + ring.occupancy());
        }
        // Drain: everything rung, delivered and consumed gives every credit back, the refused ones too.
        ring.ringAll();
        for (Data d = ring.nextRung(); d != null; d = ring.nextRung()) {
            rung.add(d);
        }
        for (Data d : rung) {
            fate.put(d.sequence(), Fate.DELIVERED);
            byReceive.put(ring.deliver(d.sequence()), d.sequence());
            d.release();
        }
        for (long rx = 1; rx <= ring.received(); rx++) {
            fate.put(byReceive.get(rx), Fate.CONSUMED);
        }
        ring.consumed(ring.received());
        credits += takeReturned(returned);
        assertEquals(next - 1, ring.head(), "the head reaches the last sequence the producer used");
        assertEquals(depth, credits, "the producer has all its credits back");
        assertEquals(0, ring.occupancy());
    }

    /** Posts the next sequence; an accepted one must find its slot's previous occupant finished. */
    private static long post(DescriptorRing ring, Map<Long, Fate> fate, long seq) {
        Data d = DescriptorRingTest.descriptor(seq);
        if (ring.post(d) == DescriptorRing.Admission.OVERRUN) {
            d.release();
            fate.put(seq, Fate.REFUSED);
        } else {
            long previous = seq - ring.depth();
            assertTrue(previous < 1 || FREE.contains(fate.get(previous)),
                    "slot " + ring.slot(seq) + " reused by " + seq + " while " + previous + " is " + fate.get(previous));
            fate.put(seq, Fate.POSTED);
        }
        return seq + 1;
    }

    private static long takeReturned(long[] returned) {
        long r = returned[0];
        returned[0] = 0;
        return r;
    }
}
