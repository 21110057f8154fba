package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The producer's credits under any interleaving of posts, doorbells, deliveries, drops, RX_DONEs (also beyond
 * what was received) and retrains: the simulator's ring (DescriptorRing, which returns credits as its head moves) against a
 * producer that counts them as an end does (BusPort: one spent per post, the interrupt's count added back, the
 * ring depth again after a retrain). Credits stay within 0..depth, each consumed, dropped or discarded descriptor
 * gives its credit back exactly once, and a drained ring gives every credit back. DescriptorRingPropertiesTest
 * covers slot reuse and ring order; jqwik shrinks a failure to the shortest script that shows it.
 */
class CreditPropertiesTest {

    enum Op { POST, POST_PAST_CREDITS, MALFORMED, DOORBELL, DELIVER, DROP, RX_DONE, RX_DONE_BEYOND, RETRAIN }

    @Provide
    Arbitrary<List<Op>> scripts() {
        return Arbitraries.of(Op.class).list().ofMaxSize(300);
    }

    @Property(tries = 500)
    void creditsStayWithinTheRingAndComeBackExactlyOnce(@ForAll @IntRange(min = 1, max = 16) int depth,
                                                        @ForAll("scripts") List<Op> script) {
        Epoch e = new Epoch(depth);
        for (Op op : script) {
            switch (op) {
                case POST -> {
                    if (e.credits > 0) {
                        e.post();
                    }
                }
                case POST_PAST_CREDITS -> {
                    if (e.credits > -depth) {
                        e.post(); // a buggy producer: the ring refuses it and writes its sequence off
                    }
                }
                case MALFORMED -> {
                    if (e.credits > 0) {
                        e.credits--;
                        e.completed.add(e.next); // refused on arrival: its credit comes back in ring order
                        e.ring.discard(e.next++);
                    }
                }
                case DOORBELL -> e.ring.doorbell(e.next - 1);
                case DELIVER, DROP -> {
                    Data d = e.ring.nextRung();
                    if (d != null) {
                        long seq = d.sequence();
                        d.release();
                        if (op == Op.DROP) {
                            e.completed.add(seq);
                            e.ring.dropped(seq);
                        } else {
                            e.delivered.add(seq);
                            e.ring.deliver(seq);
                        }
                    }
                }
                case RX_DONE -> e.consumeAll();
                case RX_DONE_BEYOND -> {
                    // a consumer claiming more than it received: what it did receive is done, nothing beyond
                    e.completed.addAll(e.delivered);
                    e.delivered.clear();
                    e.ring.consumed(e.ring.received() + 1 + depth);
                }
                case RETRAIN -> {
                    e.ring.clear();
                    e = new Epoch(depth); // a new ring; the end's credits are the ring depth again
                }
            }
            e.check();
        }
        // drain: everything posted moves, is delivered and consumed, and every credit is back
        e.ring.ringAll();
        for (Data d = e.ring.nextRung(); d != null; d = e.ring.nextRung()) {
            e.delivered.add(d.sequence());
            e.ring.deliver(d.sequence());
            d.release();
        }
        e.consumeAll();
        e.check();
        assertEquals(depth, e.credits, "a drained ring gives every credit back");
        assertEquals(e.next - 1, e.ring.head());
    }

    /** One link epoch: the simulator's ring and the producer's count of its credits. */
    private static final class Epoch {
        final int depth;
        final DescriptorRing ring;
        final Set<Long> returned = new HashSet<>();
        /** Consumed, dropped, discarded or refused: may have its credit back once the head passes it. */
        final Set<Long> completed = new HashSet<>();
        final ArrayDeque<Long> delivered = new ArrayDeque<>();
        long credits;
        long next = 1;
        private long headBefore;

        Epoch(int depth) {
            this.depth = depth;
            this.credits = depth;
            this.ring = new DescriptorRing(depth, this::creditsBack);
        }

        /** The completion interrupt's count, as the end adds it to its credits. */
        private void creditsBack(int k) {
            long head = ring.head();
            assertEquals(headBefore + k, head, "credits returned for sequences the head did not pass");
            for (long s = headBefore + 1; s <= head; s++) {
                assertTrue(completed.contains(s), "credit for " + s + " returned before it completed");
                assertTrue(returned.add(s), "credit for " + s + " returned twice");
            }
            headBefore = head;
            credits += k;
        }

        void post() {
            Data d = DescriptorRingTest.descriptor(next);
            credits--;
            if (ring.post(d) == DescriptorRing.Admission.OVERRUN) {
                d.release();
                completed.add(next);
            }
            next++;
        }

        void consumeAll() {
            completed.addAll(delivered);
            delivered.clear();
            ring.consumed(ring.received());
        }

        void check() {
            assertTrue(credits <= depth, "credits " + credits + " exceed the ring depth " + depth);
            // only a producer that posted past its credits goes below 0, and never by more than it overran
            assertTrue(credits >= 0 || next - 1 - ring.head() > depth, "credits " + credits + " below 0");
            assertEquals(depth - credits, next - 1 - ring.head(), "credits outstanding = sequences the head has not passed");
        }
    }
}
