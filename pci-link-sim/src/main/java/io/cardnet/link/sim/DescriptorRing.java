package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;

import java.util.ArrayDeque;
import java.util.function.IntConsumer;

/**
 * The books of one direction's descriptor ring: which sequences occupy slots, which the doorbell has made
 * movable, which receive sequence each delivered descriptor got, and when a slot is free again.
 *
 * <pre>
 *  post ──▶ waiting ──doorbell──▶ rung ──engine──▶ delivered (receive seq) ──RX_DONE──▶ consumed ─┐
 *   │                                      └──▶ dropped on the wire ────────────────────────────────┤
 *   └─ spent a credit but never arrived whole ──▶ discarded ─────────────────────────────────────────┤
 *                                                                                                   ▼
 *                                  completed: the head moves over it, in ring order; the producer gets the credit
 * </pre>
 *
 * A descriptor occupies its slot ({@code sequence mod depth}) from the moment it is posted until the head has
 * moved past it, and the head moves only over contiguous completed sequences. So credits come back in ring
 * order, and a slot is never handed out again while the consumer may still be reading it (with shared memory
 * the consumer reads the packet straight from the producer's slot until its RX_DONE).
 *
 * <p>A producer that posts past its credits is refused ({@link Admission#OVERRUN}). Its sequence is written off
 * beyond the ring, up to one more ring's worth, and completed once the ring has room for it, so the head and
 * the producer's later credits go on. Not thread-safe: the bus thread owns it. A retrain makes a new ring.
 */
final class DescriptorRing {

    /** What became of a posted descriptor. */
    enum Admission {
        /** in the ring, waiting for its doorbell */
        POSTED,
        /** in the ring, and the ring is now full: the producer has no credit left */
        FILLED,
        /** refused: the producer had no credit (the caller releases and counts it) */
        OVERRUN
    }

    private final int depth;
    private final IntConsumer creditsBack;
    /** Posted descriptors the engine has not moved yet, in sequence order. */
    private final ArrayDeque<Data> waiting = new ArrayDeque<>();
    /** Producer sequence of each delivered descriptor, by receive sequence, until the consumer frees it. */
    private final long[] delivered;
    /** Completed (consumed, dropped or discarded) descriptors beyond the head, by producer sequence. */
    private final boolean[] done;
    private int occupancy;
    /** The highest sequence in the ring, posted or discarded. */
    private long lastPosted;
    /** Sequences lastPosted+1 .. writtenOffTo-1 were discarded while the ring was full. */
    private long writtenOffTo;
    private long doorbellTail;
    /** Every sequence up to the head is completed and its credit returned. */
    private long head;
    private long consumedUpTo;
    private long received;

    /** {@code creditsBack} is told each time the head moves, with how many slots it freed. */
    DescriptorRing(int depth, IntConsumer creditsBack) {
        this.depth = depth;
        this.creditsBack = creditsBack;
        this.delivered = new long[depth];
        this.done = new boolean[depth];
    }

    int depth() {
        return depth;
    }

    /** Slots taken: posted or discarded, and not yet completed. */
    int occupancy() {
        return occupancy;
    }

    long head() {
        return head;
    }

    /** Descriptors posted and not yet moved by the engine. */
    int waiting() {
        return waiting.size();
    }

    /** The last receive sequence handed to the consumer. */
    long received() {
        return received;
    }

    /** The slot a sequence lives in. */
    int slot(long sequence) {
        return (int) (sequence % depth);
    }

    // ------------------------------------------------------------------ the producer

    /** A descriptor written into the ring; it becomes movable once a doorbell covers its sequence. */
    Admission post(Data d) {
        // past the producer's credits: the ring is full, or the sequence lies beyond the slots its credits cover
        if (occupancy >= depth || d.sequence() > head + depth) {
            discard(d.sequence());
            return Admission.OVERRUN;
        }
        waiting.addLast(d);
        occupancy++;
        lastPosted = d.sequence();
        return occupancy == depth ? Admission.FILLED : Admission.POSTED;
    }

    /**
     * The producer's MMIO write of its ring tail: descriptors up to {@code tail} may move. A tail beyond what was
     * posted moves only what was posted, and a tail behind the last one moves nothing: a doorbell cannot make
     * descriptors movable before they are in the ring.
     */
    void doorbell(long tail) {
        doorbellTail = Math.max(doorbellTail, Math.min(tail, lastPosted));
    }

    /** The last tail a doorbell (or the poll timer) made movable. */
    long doorbellTail() {
        return doorbellTail;
    }

    /** The highest sequence in the ring, posted or discarded. */
    long lastPosted() {
        return lastPosted;
    }

    /** The consumer's RX_DONE mark so far. */
    long consumedUpTo() {
        return consumedUpTo;
    }

    /** Whether something was posted beyond the last doorbell (a lost one, or one still to come). */
    boolean unrung() {
        return lastPosted > doorbellTail;
    }

    /** What the poll timer does when a doorbell went missing: everything posted may move. */
    void ringAll() {
        doorbellTail = lastPosted;
    }

    /** The next descriptor a doorbell made movable, or null. */
    Data nextRung() {
        Data d = waiting.peekFirst();
        if (d == null || d.sequence() > doorbellTail) {
            return null;
        }
        return waiting.pollFirst();
    }

    /**
     * A sequence the producer spent a credit on but that will never move (refused, malformed, or lost before it
     * reached the ring): counted as posted and done at once, so the head, and the producer's credits, go on.
     */
    void discard(long seq) {
        if (seq <= head) {
            return;
        }
        if (seq <= head + depth) {
            occupancy++;
            lastPosted = Math.max(lastPosted, seq);
            complete(seq);
        } else if (seq == Math.max(writtenOffTo, lastPosted + 1) && seq <= head + 2L * depth) {
            // Beyond a full ring (a producer past its credits): it takes a slot, already done, once one is free.
            writtenOffTo = seq + 1;
        }
    }

    /** Writes off {@code from} (inclusive) to {@code to} (exclusive); only the part a ring can account matters. */
    void discard(long from, long to) {
        for (long s = Math.max(from, to - 2L * depth); s < to; s++) {
            discard(s);
        }
    }

    // ------------------------------------------------------------------ the engine and the consumer

    /** The engine hands a descriptor to the consumer: it gets the next receive sequence, returned. */
    long deliver(long producerSeq) {
        received++;
        delivered[(int) (received % depth)] = producerSeq;
        return received;
    }

    /** The descriptor was lost on the wire (the DROP fault): done, its credit goes back in ring order. */
    void dropped(long producerSeq) {
        complete(producerSeq);
    }

    /** The consumer's RX_DONE: it processed its receive ring up to {@code upTo}, so those slots are free. */
    void consumed(long upTo) {
        long to = Math.min(upTo, received);
        for (long rx = consumedUpTo + 1; rx <= to; rx++) {
            complete(delivered[(int) (rx % depth)]);
        }
        consumedUpTo = Math.max(consumedUpTo, to);
    }

    /** Marks one descriptor done and advances the head over every contiguous done one. */
    private void complete(long producerSeq) {
        done[slot(producerSeq)] = true;
        int freed = 0;
        boolean absorbed;
        do {
            while (head < lastPosted && done[slot(head + 1)]) {
                done[slot(head + 1)] = false;
                head++;
                freed++;
            }
            absorbed = false;
            while (writtenOffTo > lastPosted + 1 && lastPosted - head < depth) {
                lastPosted++;
                occupancy++;
                done[slot(lastPosted)] = true;
                absorbed = true;
            }
        } while (absorbed);
        if (freed > 0) {
            occupancy -= freed;
            creditsBack.accept(freed);
        }
    }

    /** The link went down: releases what was waiting and returns how many. */
    int clear() {
        int n = waiting.size();
        waiting.forEach(Data::release);
        waiting.clear();
        return n;
    }
}
