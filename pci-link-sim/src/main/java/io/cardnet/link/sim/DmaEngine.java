package io.cardnet.link.sim;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.model.TlpModel;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.Role;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * One direction of the link: the producer's descriptor ring and the DMA engine that moves it.
 *
 * <pre>
 *  producer ──DATA──▶ ring (≤ depth posted) ──DOORBELL──▶ ready ──wire clock──▶ in flight ──▶ consumer
 *                                                                   (TLPs, latency)            │
 *  producer ◀── INTERRUPT(credits) ◀── completion coalescer ◀──────────────────────────────────┤
 *                                      consumer ◀── INTERRUPT(rxUpTo) ◀── receive coalescer ◀──┘
 * </pre>
 *
 * A descriptor occupies a ring slot from the moment it is posted until it is delivered; its completion gives
 * the producer its credit back. Everything here runs on the bus thread.
 */
final class DmaEngine {
    private static final Logger log = LoggerFactory.getLogger(DmaEngine.class);
    /**
     * Descriptors due within this much of now go out with the current timer tick. The wire clock still advances
     * by exactly the modelled time per descriptor, so the long-run rate is the model's; this only keeps timer
     * lateness and per-descriptor timers from costing wire time the model never meant to idle.
     */
    private static final long SLACK_NANOS = 20_000;

    private record InFlight(Data data, long deliverAt, long producerSeq) {
    }

    private final Direction direction;
    private final Role producer;
    private final Role consumer;
    private final Link link;
    private final SimMetrics metrics;
    private final EventLoop loop;
    private final BusTap tap;
    private final ChecksumCorruptor corruptor;
    private final DmaRegion region;
    private final SplittableRandom random = new SplittableRandom();
    private final ArrayDeque<Data> ring = new ArrayDeque<>();
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final InterruptCoalescer receive;
    private final InterruptCoalescer completion;
    private DmaEngine opposite;
    private LinkSettings settings;
    private TlpModel model;

    private long lastPosted;
    private long doorbellTail;
    private long lastPostNanos;
    private int occupancy;
    private long wireFree;
    private long stalledUntil;
    private long rxSeq;
    private boolean blocked;
    private InFlight held;
    private ScheduledFuture<?> deliveryTimer;
    private long deliveryTimerAt;
    private ScheduledFuture<?> pollTimer;
    private ScheduledFuture<?> stallTimer;
    private long lastOverrunLog;
    /** Producer sequence of each delivered descriptor, by receive sequence, until the consumer frees it. */
    private long[] delivered;
    /** Completed (consumed or dropped) descriptors beyond the head, by producer sequence. */
    private boolean[] done;
    private long head;
    private long consumedUpTo;
    private FrameFault lastViewFault;

    DmaEngine(Direction direction, Link link, SimMetrics metrics, EventLoop loop, LinkSettings settings,
              ChecksumCorruptor corruptor, DmaRegion region, BusTap tap) {
        this.corruptor = corruptor;
        this.region = region;
        this.direction = direction;
        this.producer = direction == Direction.H2C ? Role.ROOT_COMPLEX : Role.ENDPOINT;
        this.consumer = producer.peer();
        this.link = link;
        this.metrics = metrics;
        this.loop = loop;
        this.tap = tap;
        this.settings = settings;
        this.model = new TlpModel(settings.profile());
        this.delivered = new long[settings.ringDepth()];
        this.done = new boolean[settings.ringDepth()];
        this.receive = new InterruptCoalescer(loop, settings.coalescing(direction), this::raiseReceive);
        this.completion = new InterruptCoalescer(loop, settings.coalescing(direction), this::raiseCompletion);
    }

    void opposite(DmaEngine other) {
        this.opposite = other;
    }

    void settings(LinkSettings next) {
        this.settings = next;
        this.model = new TlpModel(next.profile());
        receive.settings(next.coalescing(direction));
        completion.settings(next.coalescing(direction));
        flush();
    }

    int occupancy() {
        return occupancy;
    }

    // ------------------------------------------------------------------ producer side

    /** A descriptor written into the ring; it moves once a doorbell (or the poll timer) says it is posted. */
    void post(Data d) {
        if (occupancy >= settings.ringDepth()) {
            // The producer wrote past its credits: a driver bug on real hardware. Refuse the descriptor, but
            // account it as posted and dropped, so the ring's head can move past its sequence.
            long seq = d.sequence();
            metrics.drop(direction, "ring_overrun");
            d.release();
            discard(seq);
            long now = System.nanoTime();
            if (now - lastOverrunLog > 1_000_000_000L) {
                lastOverrunLog = now;
                log.warn("{}: the {} posted beyond its {} credits; descriptor dropped (cardnet_bus_drops_total"
                        + " reason=ring_overrun)", direction.tag(), producer.description(), settings.ringDepth());
            }
            return;
        }
        ring.addLast(d);
        occupancy++;
        lastPosted = d.sequence();
        lastPostNanos = System.nanoTime();
        if (occupancy == settings.ringDepth()) {
            metrics.ringFull(direction);
        }
        armPoll();
    }

    /**
     * The descriptor a DESC names, read from this direction's DMA slot and checked like a DATA frame from a
     * socket; or null, with {@link #lastViewFault()} saying why not.
     */
    Data view(Desc desc) {
        int depth = settings.ringDepth();
        if (region == null || !shared()) {
            lastViewFault = new FrameFault(FrameFault.Kind.BAD_SLOT, "DESC without negotiated shared memory");
        } else if (desc.slot() != desc.sequence() % depth) {
            lastViewFault = new FrameFault(FrameFault.Kind.BAD_SLOT, "descriptor " + desc.sequence() + " names slot "
                    + desc.slot() + "; in a ring of " + depth + " it lives in slot " + desc.sequence() % depth);
        } else if (desc.length() < Data.PACKET_OFFSET + Data.MIN_PACKET || desc.length() > Data.PACKET_OFFSET + Data.MAX_PACKET) {
            lastViewFault = new FrameFault(FrameFault.Kind.BAD_LENGTH, "DESC of " + desc.length()
                    + " bytes; a descriptor holds " + (Data.PACKET_OFFSET + Data.MIN_PACKET) + ".." + (Data.PACKET_OFFSET + Data.MAX_PACKET));
        } else {
            Object checked = FrameDecoder.dataOrFault(region.frame(desc.slot(), desc.length()));
            if (checked instanceof Data d) {
                return d;
            }
            lastViewFault = (FrameFault) checked;
        }
        return null;
    }

    FrameFault lastViewFault() {
        return lastViewFault;
    }

    private boolean shared() {
        var up = link.current();
        return up != null && Features.has(up.features(), Features.SHARED_MEMORY);
    }

    /**
     * The consumer processed its receive ring up to {@code upTo}: those buffers are free. Credits go back to the
     * producer as the ring's head advances, in ring order, so a slot is never handed out while still in use.
     */
    void consumed(long upTo, long epoch) {
        var up = link.current();
        if (up == null || up.epoch() != epoch) {
            return;
        }
        for (long rx = consumedUpTo + 1; rx <= Math.min(upTo, rxSeq); rx++) {
            complete(delivered[(int) (rx % delivered.length)]);
        }
        consumedUpTo = Math.max(consumedUpTo, Math.min(upTo, rxSeq));
        flush();
    }

    /**
     * A sequence the producer spent a credit on but that will never move (refused, malformed, or lost before it
     * reached the ring): counted as posted and done at once, so the head, and the producer's credits, go on.
     */
    void discard(long seq) {
        if (seq <= head || seq > head + settings.ringDepth()) {
            return;
        }
        occupancy++;
        lastPosted = Math.max(lastPosted, seq);
        complete(seq);
    }

    /** Writes off {@code from} (inclusive) to {@code to} (exclusive); only the part a ring can hold matters. */
    void discard(long from, long to) {
        for (long s = Math.max(from, to - settings.ringDepth()); s < to; s++) {
            discard(s);
        }
    }

    /** Marks one descriptor done and advances the head over every contiguous done one. */
    private void complete(long producerSeq) {
        done[(int) (producerSeq % done.length)] = true;
        int freed = 0;
        while (head < lastPosted && done[(int) ((head + 1) % done.length)]) {
            done[(int) ((head + 1) % done.length)] = false;
            head++;
            freed++;
        }
        if (freed > 0) {
            occupancy -= freed;
            completion.add(freed);
        }
    }

    /** The producer's MMIO write of its ring tail. */
    void doorbell(long tail) {
        metrics.doorbell(direction);
        chargeWire(Role.ROOT_COMPLEX == producer);
        if (fires(FaultKind.LOST_DOORBELL)) {
            metrics.faultInjected(direction, FaultKind.LOST_DOORBELL);
            return;
        }
        doorbellTail = Math.max(doorbellTail, tail);
        pump();
    }

    private void armPoll() {
        if (pollTimer == null) {
            pollTimer = loop.schedule(this::poll, settings.pollMicros(), TimeUnit.MICROSECONDS);
        }
    }

    /** The engine's poll timer: finds descriptors posted without a doorbell (a lost one) and moves them. */
    private void poll() {
        pollTimer = null;
        if (lastPosted <= doorbellTail) {
            return;
        }
        if (System.nanoTime() - lastPostNanos >= settings.pollMicros() * 1000L) {
            doorbellTail = lastPosted;
            metrics.pollRecovery(direction);
            pump();
        } else {
            armPoll();
        }
    }

    // ------------------------------------------------------------------ the engine

    /** Moves every posted descriptor onto the wire clock, then delivers what is due. */
    void pump() {
        long now = System.nanoTime();
        if (now < stalledUntil) {
            if (stallTimer == null) {
                stallTimer = loop.schedule(() -> {
                    stallTimer = null;
                    pump();
                }, stalledUntil - now, TimeUnit.NANOSECONDS);
            }
            return;
        }
        while (!ring.isEmpty() && ring.peekFirst().sequence() <= doorbellTail) {
            Data d = ring.pollFirst();
            int n = d.packetLength();
            long wire = model.wireBytes(n);
            metrics.tlps(direction, model.tlps(n));
            if (fires(FaultKind.BITFLIP)) {
                wire += flipDetectAndReplay(d);
            }
            long start = Math.max(now, wireFree);
            long busy = model.nanos(wire);
            wireFree = start + busy;
            metrics.wireBusy(direction, busy);
            if (fires(FaultKind.DROP)) {
                metrics.faultInjected(direction, FaultKind.DROP);
                metrics.drop(direction, "fault_drop");
                long seq = d.sequence();
                d.release();
                complete(seq);
                continue;
            }
            long deliverAt = model.profile().paced() ? wireFree + settings.profile().latency().toNanos() : now;
            inFlight.addLast(new InFlight(d, deliverAt, d.sequence()));
        }
        deliverDue();
    }

    /** Stops moving descriptors for a while (the STALL fault). */
    void stall(long millis) {
        stalledUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        metrics.faultInjected(direction, FaultKind.STALL);
    }

    private void deliverDue() {
        Channel out = link.peerIfUp(producer);
        if (out == null) {
            return;
        }
        long now = System.nanoTime();
        while (!inFlight.isEmpty() && inFlight.peekFirst().deliverAt() <= now + SLACK_NANOS) {
            if (!out.isWritable()) {
                // The consumer is not draining its receive ring: hold everything until it does.
                blocked = true;
                break;
            }
            InFlight f = inFlight.pollFirst();
            if (held == null && inFlight.size() + ring.size() > 0 && fires(FaultKind.REORDER)) {
                metrics.faultInjected(direction, FaultKind.REORDER);
                held = f;
                continue;
            }
            deliver(f, out);
            if (held != null) {
                InFlight h = held;
                held = null;
                deliver(h, out);
            }
        }
        if (held != null && inFlight.isEmpty() && ring.isEmpty()) {
            deliver(held, out);
            held = null;
        }
        if (!inFlight.isEmpty() && !blocked) {
            long at = inFlight.peekFirst().deliverAt();
            if (deliveryTimer == null || at < deliveryTimerAt) {
                if (deliveryTimer != null) {
                    deliveryTimer.cancel(false);
                }
                deliveryTimerAt = at;
                deliveryTimer = loop.schedule(() -> {
                    deliveryTimer = null;
                    deliverDue();
                }, Math.max(0, at - now - SLACK_NANOS), TimeUnit.NANOSECONDS);
            }
        }
        flush();
    }

    /**
     * Hands a descriptor to the consumer: the frame itself, or with shared memory just a DESC naming the
     * producer's slot (the consumer reads the packet from there). The buffer stays the consumer's until its
     * RX_DONE; only then does the producer get the credit back.
     */
    private void deliver(InFlight f, Channel out) {
        Data d = f.data();
        if (fires(FaultKind.POISON) && poison(d)) {
            metrics.faultInjected(direction, FaultKind.POISON);
        }
        if (corruptor.apply(d)) {
            metrics.corruptedChecksums.increment();
        }
        rxSeq++;
        d.sequence(rxSeq);
        delivered[(int) (rxSeq % delivered.length)] = f.producerSeq();
        tap.record(direction, d, f.producerSeq() % settings.ringDepth());
        metrics.carried(direction, d.packetLength());
        if (shared()) {
            out.write(new Desc(rxSeq, (int) (f.producerSeq() % settings.ringDepth()), d.content().writerIndex(),
                    d.epoch()), out.voidPromise());
            d.release();
        } else {
            out.write(d, out.voidPromise());
        }
        receive.add(1);
    }

    /** The consumer's channel drained: deliver what waited. */
    void resume() {
        if (blocked) {
            blocked = false;
            deliverDue();
        }
    }

    // ------------------------------------------------------------------ interrupts

    private void raiseReceive(int frames) {
        Channel out = link.peerIfUp(producer);
        if (out != null) {
            out.write(new Interrupt(rxSeq, 0), out.voidPromise());
            metrics.interrupt(direction, "receive", frames);
            chargeWire(consumer == Role.ENDPOINT);
            out.flush();
        }
    }

    private void raiseCompletion(int frames) {
        Channel back = link.peerIfUp(consumer);
        if (back != null) {
            back.write(new Interrupt(0, frames), back.voidPromise());
            metrics.interrupt(direction, "completion", frames);
            chargeWire(producer == Role.ENDPOINT);
            back.flush();
        }
    }

    /** A doorbell or interrupt is one small TLP on the wire it travels: toward the card is h2c. */
    private void chargeWire(boolean towardCard) {
        DmaEngine wire = (direction == Direction.H2C) == towardCard ? this : opposite;
        if (wire != null && wire.model.profile().paced()) {
            wire.wireFree = Math.max(wire.wireFree, System.nanoTime()) + wire.model.nanos(wire.model.notificationWireBytes());
        }
    }

    private void flush() {
        Channel out = link.peerIfUp(producer);
        if (out != null) {
            out.flush();
        }
    }

    // ------------------------------------------------------------------ faults

    private boolean fires(FaultKind k) {
        double p = settings.faults(direction).probability(k);
        return p > 0 && random.nextDouble() < p;
    }

    /**
     * A bit flips on the wire before the link CRC. The receiver's LCRC check fails, so the data-link layer
     * replays the TLP from its replay buffer: the consumer gets the original, and the wire carries it twice.
     * Returns the extra wire bytes.
     */
    private long flipDetectAndReplay(Data d) {
        metrics.faultInjected(direction, FaultKind.BITFLIP);
        int n = d.packetLength();
        long sent = crc(d, n);
        int bit = random.nextInt(n * 8);
        flipBit(d, bit);
        boolean detected = crc(d, n) != sent;
        flipBit(d, bit);
        if (!detected) {
            log.error("{}: a single-bit flip escaped the link CRC; this should be impossible", direction.tag());
            return 0;
        }
        metrics.replay(direction);
        return model.wireBytes(n);
    }

    private static long crc(Data d, int n) {
        CRC32C crc = new CRC32C();
        crc.update(d.content().nioBuffer(Data.PACKET_OFFSET, n));
        return crc.getValue();
    }

    private static void flipBit(Data d, int bit) {
        int at = Data.PACKET_OFFSET + bit / 8;
        d.content().setByte(at, d.content().getByte(at) ^ (1 << (bit % 8)));
    }

    /**
     * Corrupts one payload byte after the CRC check (a poisoned buffer). IP and transport headers are spared so
     * the packet still reaches its socket: what happens next is up to the consumer's checksum policy.
     * Returns false for a packet without payload.
     */
    private boolean poison(Data d) {
        var b = d.content();
        int p = Data.PACKET_OFFSET;
        int len = d.packetLength();
        if ((b.getUnsignedByte(p) >> 4) != 4) {
            return false;
        }
        int l4 = (b.getUnsignedByte(p) & 0x0f) * 4;
        int proto = b.getUnsignedByte(p + 9);
        int headers = l4 + switch (proto) {
            case 6 -> len > l4 + 12 ? (b.getUnsignedByte(p + l4 + 12) >> 4) * 4 : len;
            case 17 -> 8;
            default -> len;
        };
        if (headers >= len) {
            return false;
        }
        int at = p + headers + random.nextInt(len - headers);
        b.setByte(at, b.getByte(at) ^ 0x01);
        return true;
    }

    // ------------------------------------------------------------------ link state

    /** The link went down or retrained: everything posted or in flight is gone, credits start over. */
    void reset() {
        int lost = ring.size() + inFlight.size() + (held != null ? 1 : 0);
        ring.forEach(Data::release);
        ring.clear();
        inFlight.forEach(f -> f.data().release());
        inFlight.clear();
        if (held != null) {
            held.data().release();
            held = null;
        }
        for (int i = 0; i < lost; i++) {
            metrics.drop(direction, "link_down");
        }
        for (ScheduledFuture<?> t : new ScheduledFuture<?>[]{deliveryTimer, pollTimer, stallTimer}) {
            if (t != null) {
                t.cancel(false);
            }
        }
        deliveryTimer = null;
        pollTimer = null;
        stallTimer = null;
        receive.reset();
        completion.reset();
        lastPosted = 0;
        doorbellTail = 0;
        occupancy = 0;
        head = 0;
        consumedUpTo = 0;
        delivered = new long[settings.ringDepth()];
        done = new boolean[settings.ringDepth()];
        rxSeq = 0;
        wireFree = 0;
        blocked = false;
    }
}
