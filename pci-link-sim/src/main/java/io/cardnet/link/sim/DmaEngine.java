package io.cardnet.link.sim;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.model.FaultInjector;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.model.WireClock;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.Role;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One direction of the link: the DMA engine that moves the producer's descriptor ring to the consumer.
 *
 * <pre>
 *  producer ──DATA/DESC──▶ DescriptorRing ──DOORBELL──▶ rung ──WireClock──▶ in flight ──▶ consumer
 *                            (credits)       FaultInjector: lost doorbell,   (TLPs,       │ DATA or DESC
 *                                            bitflip, drop, reorder, poison   latency)    │
 *  producer ◀── INTERRUPT(credits) ◀── completion coalescer ◀── ring head ◀── RX_DONE ◀───┤
 *                                      consumer ◀── INTERRUPT(rxUpTo) ◀── receive coalescer ◀┘
 * </pre>
 *
 * The ring keeps the books (slots, credits in ring order), the wire clock says when a descriptor arrives, the
 * fault injector says what goes wrong; this class wires them together, keeps the timers and delivers. Time is
 * the event loop's ticker, so an {@code EmbeddedChannel}'s loop drives it on virtual time. Everything here runs
 * on the bus thread.
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
    private final WireClock wire;
    private final FaultInjector faults;
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final InterruptCoalescer receive;
    private final InterruptCoalescer completion;
    private DescriptorRing ring;
    private DmaEngine opposite;
    private LinkSettings settings;
    /** The switch's upstream link this card shares with others, or null: the card's own link is all there is. */
    private io.cardnet.link.model.UpstreamLink upstream;

    private long lastPostNanos;
    private boolean blocked;
    /** A descriptor the REORDER fault holds back until the one behind it is delivered. */
    private InFlight held;
    private ScheduledFuture<?> deliveryTimer;
    private long deliveryTimerAt;
    private ScheduledFuture<?> pollTimer;
    private ScheduledFuture<?> stallTimer;
    /** The ticker's time may start near 0, so the first overrun is logged whenever it comes. */
    private long nextOverrunLog = Long.MIN_VALUE;
    private long nextRefusalLog = Long.MIN_VALUE;

    DmaEngine(Direction direction, Link link, SimMetrics metrics, EventLoop loop, LinkSettings settings,
              ChecksumCorruptor corruptor, DmaRegion region, BusTap tap) {
        this(direction, link, metrics, loop, settings, corruptor, region, tap, new FaultInjector(settings.faults(direction)));
    }

    /** With a fault injector of the caller's (a seeded one in tests). */
    DmaEngine(Direction direction, Link link, SimMetrics metrics, EventLoop loop, LinkSettings settings,
              ChecksumCorruptor corruptor, DmaRegion region, BusTap tap, FaultInjector faults) {
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
        this.wire = new WireClock(settings.profile());
        this.faults = faults;
        this.receive = new InterruptCoalescer(loop, settings.coalescing(direction), this::raiseReceive);
        this.completion = new InterruptCoalescer(loop, settings.coalescing(direction), this::raiseCompletion);
        this.ring = new DescriptorRing(settings.ringDepth(), completion::add);
    }

    /** Set once, before the link carries anything: this card sits behind a switch whose upstream it shares. */
    void upstream(io.cardnet.link.model.UpstreamLink shared) {
        this.upstream = shared;
    }

    void opposite(DmaEngine other) {
        this.opposite = other;
    }

    void settings(LinkSettings next) {
        this.settings = next;
        wire.profile(next.profile());
        faults.settings(next.faults(direction));
        receive.settings(next.coalescing(direction));
        completion.settings(next.coalescing(direction));
        flush();
    }

    int occupancy() {
        return ring.occupancy();
    }

    private long now() {
        return loop.ticker().nanoTime();
    }

    // ------------------------------------------------------------------ producer side

    /** A descriptor written into the ring; it moves once a doorbell (or the poll timer) says it is posted. */
    void post(Data d) {
        long now = now();
        switch (ring.post(d)) {
            case OVERRUN -> {
                // The producer wrote past its credits: a driver bug on real hardware. The ring refuses the
                // descriptor and writes its sequence off, so the head can move past it.
                metrics.drop(direction, "ring_overrun");
                d.release();
                if (now >= nextOverrunLog) {
                    nextOverrunLog = now + 1_000_000_000L;
                    log.warn("{}: the {} posted beyond its {} credits; descriptor dropped (cardnet_bus_drops_total"
                            + " reason=ring_overrun)", direction.tag(), producer.description(), ring.depth());
                }
                return;
            }
            case FILLED -> metrics.ringFull(direction);
            case POSTED -> {
            }
        }
        lastPostNanos = now;
        armPoll();
    }

    /**
     * The descriptor a DESC names, read from this direction's DMA slot and checked like a DATA frame from a
     * socket; or the fault that says why not.
     */
    Decoded<Data> view(Desc desc) {
        if (region == null || !shared()) {
            return Decoded.refused(FrameFault.Kind.BAD_SLOT, "DESC without negotiated shared memory");
        }
        return view(desc, ring.depth(), region);
    }

    /**
     * A DESC's fields checked against a ring of {@code depth} in {@code region}: the slot its sequence lives in,
     * a length a slot can hold; then the slot's bytes are checked like a DATA frame. Everything in a DESC comes
     * from the end, so nothing here may throw (DescriptorFuzzTest).
     */
    static Decoded<Data> view(Desc desc, int depth, DmaRegion region) {
        if (desc.sequence() < 0) {
            return Decoded.refused(FrameFault.Kind.BAD_SLOT, "descriptor " + desc.sequence()
                    + " has a negative sequence; sequences count up from 1");
        }
        if (desc.slot() != desc.sequence() % depth) {
            return Decoded.refused(FrameFault.Kind.BAD_SLOT, "descriptor " + desc.sequence() + " names slot "
                    + desc.slot() + "; in a ring of " + depth + " it lives in slot " + desc.sequence() % depth);
        }
        return region.descriptor(desc.slot(), desc.length());
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
            refuse(NotificationRefusal.RX_DONE_STALE_EPOCH, () -> "RX_DONE of epoch " + epoch + " while the link runs epoch "
                    + (up == null ? "none" : up.epoch()) + "; ignored");
            return;
        }
        if (upTo > ring.received()) {
            // freeing buffers never handed out would return credits for descriptors still in flight
            refuse(NotificationRefusal.RX_DONE_BEYOND_DELIVERED, () -> "RX_DONE up to " + upTo + " but only " + ring.received()
                    + " descriptors were delivered; taken as " + ring.received());
        } else if (upTo < ring.consumedUpTo()) {
            refuse(NotificationRefusal.RX_DONE_BEHIND, () -> "RX_DONE up to " + upTo + " after one up to " + ring.consumedUpTo() + "; ignored");
        }
        ring.consumed(upTo);
        flush();
    }

    /**
     * The highest sequence a producer may post now: a ring's worth past the head is what its credits cover, and
     * the ring writes off one more ring's worth (a producer past its credits). Beyond that a sequence is a lie.
     */
    long window() {
        return ring.head() + 2L * ring.depth();
    }

    /** A doorbell or RX_DONE that cannot be right: counted, logged (at most once a second), and ignored or clamped. */
    private void refuse(NotificationRefusal why, java.util.function.Supplier<String> detail) {
        metrics.notificationRefused(direction, why);
        long now = now();
        if (now >= nextRefusalLog) {
            nextRefusalLog = now + 1_000_000_000L;
            boolean doorbell = why.frame().equals("doorbell");
            log.warn("{}: refused {} from the {}: {} (cardnet_bus_notifications_refused_total reason={})",
                    direction.tag(), doorbell ? "a doorbell" : "an RX_DONE",
                    doorbell ? producer.description() : consumer.description(), detail.get(), why.reason());
        }
    }

    /** A sequence the producer spent a credit on but that will never move: see {@link DescriptorRing#discard(long)}. */
    void discard(long seq) {
        ring.discard(seq);
    }

    /** Writes off {@code from} (inclusive) to {@code to} (exclusive). */
    void discard(long from, long to) {
        ring.discard(from, to);
    }

    /** The producer's MMIO write of its ring tail, in link epoch {@code epoch}. */
    void doorbell(long tail, long epoch) {
        metrics.doorbell(direction);
        chargeNotification(producer.peer());
        var up = link.current();
        if (up == null || up.epoch() != epoch) {
            refuse(NotificationRefusal.DOORBELL_STALE_EPOCH, () -> "doorbell of epoch " + epoch + " while the link runs epoch "
                    + (up == null ? "none" : up.epoch()) + "; ignored");
            return;
        }
        if (tail > ring.lastPosted()) {
            refuse(NotificationRefusal.DOORBELL_BEYOND_POSTED, () -> "doorbell for tail " + tail + " but descriptors were posted up to "
                    + ring.lastPosted() + "; taken as " + ring.lastPosted());
        } else if (tail < ring.doorbellTail()) {
            // moves nothing: returns before any work, so a flood of them costs the bus thread as little as can be
            refuse(NotificationRefusal.DOORBELL_BEHIND, () -> "doorbell for tail " + tail + " after one for " + ring.doorbellTail()
                    + "; ignored");
            return;
        }
        if (faults.loseDoorbell()) {
            metrics.faultInjected(direction, FaultKind.LOST_DOORBELL);
            return;
        }
        ring.doorbell(tail);
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
        if (!ring.unrung()) {
            return;
        }
        if (now() - lastPostNanos >= settings.pollMicros() * 1000L) {
            ring.ringAll();
            metrics.pollRecovery(direction);
            pump();
        } else {
            armPoll();
        }
    }

    // ------------------------------------------------------------------ the engine

    /** Moves every rung descriptor onto the wire clock, then delivers what is due. */
    void pump() {
        long now = now();
        if (wire.stalled(now)) {
            if (stallTimer == null) {
                stallTimer = loop.schedule(() -> {
                    stallTimer = null;
                    pump();
                }, wire.stalledUntil() - now, TimeUnit.NANOSECONDS);
            }
            return;
        }
        for (Data d = ring.nextRung(); d != null; d = ring.nextRung()) {
            int n = d.packetLength();
            FaultInjector.Bitflip flip = faults.bitflip(d.content(), Data.PACKET_OFFSET, n);
            switch (flip) {
                case REPLAYED -> {
                    metrics.faultInjected(direction, FaultKind.BITFLIP);
                    metrics.replay(direction);
                }
                case ESCAPED -> {
                    metrics.faultInjected(direction, FaultKind.BITFLIP);
                    log.error("{}: a single-bit flip escaped the link CRC; this should be impossible", direction.tag());
                }
                case NONE -> {
                }
            }
            WireClock.Transfer t = wire.send(now, n, flip.transmissions());
            metrics.tlps(direction, t.tlps());
            metrics.wireBusy(direction, t.busyNanos());
            if (faults.drop()) {
                metrics.faultInjected(direction, FaultKind.DROP);
                metrics.drop(direction, "fault_drop");
                long seq = d.sequence();
                d.release();
                ring.dropped(seq);
                continue;
            }
            long deliverAt = t.deliverAt();
            if (upstream != null) {
                // both wires must have carried it; each clock only moves forward, so the order holds
                deliverAt = Math.max(deliverAt, upstream.send(direction, now, n, flip.transmissions()).deliverAt());
            }
            inFlight.addLast(new InFlight(d, deliverAt, d.sequence()));
        }
        deliverDue();
    }

    /** Stops moving descriptors for a while (the STALL fault). */
    void stall(long millis) {
        wire.stall(now(), TimeUnit.MILLISECONDS.toNanos(millis));
        metrics.faultInjected(direction, FaultKind.STALL);
    }

    private void deliverDue() {
        Channel out = link.peerIfUp(producer);
        if (out == null) {
            return;
        }
        long now = now();
        while (!inFlight.isEmpty() && inFlight.peekFirst().deliverAt() <= now + SLACK_NANOS) {
            if (!out.isWritable()) {
                // The consumer is not draining its receive ring: hold everything until it does.
                blocked = true;
                break;
            }
            InFlight f = inFlight.pollFirst();
            if (held == null && inFlight.size() + ring.waiting() > 0 && faults.reorder()) {
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
        if (held != null && inFlight.isEmpty() && ring.waiting() == 0) {
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
        if (faults.poison(d.content(), Data.PACKET_OFFSET, d.packetLength())) {
            metrics.faultInjected(direction, FaultKind.POISON);
        }
        if (corruptor.apply(d)) {
            metrics.corruptedChecksums.increment();
        }
        long rxSeq = ring.deliver(f.producerSeq());
        d.sequence(rxSeq);
        int slot = ring.slot(f.producerSeq());
        tap.record(direction, d, slot);
        metrics.carried(direction, d.packetLength());
        if (shared()) {
            out.write(new Desc(rxSeq, slot, d.content().writerIndex(), d.epoch()), out.voidPromise());
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
            out.write(new Interrupt(ring.received(), 0), out.voidPromise());
            metrics.interrupt(direction, "receive", frames);
            chargeNotification(consumer);
            out.flush();
        }
    }

    private void raiseCompletion(int frames) {
        Channel back = link.peerIfUp(consumer);
        if (back != null) {
            back.write(new Interrupt(0, frames), back.voidPromise());
            metrics.interrupt(direction, "completion", frames);
            chargeNotification(producer);
            back.flush();
        }
    }

    /**
     * A doorbell or interrupt to {@code to} is one small TLP on the wire it travels: toward the card (the
     * endpoint) is h2c, toward the host is c2h. That is this engine's wire or its opposite's.
     */
    private void chargeNotification(Role to) {
        DmaEngine e = (direction == Direction.H2C) == (to == Role.ENDPOINT) ? this : opposite;
        if (e != null) {
            e.wire.notification(now());
        }
    }

    private void flush() {
        Channel out = link.peerIfUp(producer);
        if (out != null) {
            out.flush();
        }
    }

    // ------------------------------------------------------------------ link state

    /** The link went down or retrained: everything posted or in flight is gone, credits start over. */
    void reset() {
        int lost = ring.clear() + inFlight.size() + (held != null ? 1 : 0);
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
        ring = new DescriptorRing(settings.ringDepth(), completion::add);
        wire.reset();
        blocked = false;
    }
}
