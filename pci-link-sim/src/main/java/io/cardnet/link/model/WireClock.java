package io.cardnet.link.model;

/**
 * One direction's virtual wire on a paced link: when each descriptor's TLPs occupy it and when the descriptor
 * arrives at the far end. {@link TlpModel} says how many bytes a descriptor puts on the wire and how long they
 * take; this clock keeps the one piece of state that turns that into times (docs/link-model.md, "Pacing"):
 *
 * <pre>
 *  start      = max(now, wire free)
 *  wire free  = start + busy               busy = TlpModel.nanos(wire bytes × transmissions)
 *  delivered  = wire free + latency        latency does not occupy the wire
 * </pre>
 *
 * Doorbells and interrupts are small TLPs too: whoever sends one charges it to the clock of the wire it
 * travels on ({@link #notification}). An unlimited profile never holds anything: a descriptor is delivered
 * the moment it is sent.
 *
 * <p>Time is the caller's: every method takes {@code now} in nanoseconds of one monotonic clock (an event
 * loop's {@code ticker().nanoTime()}, so tests can run it on virtual time). The clock knows nothing of
 * channels or loops, so an end can pace its own descriptors with it as well as the simulator can. Not
 * thread-safe: one thread owns a direction's wire.
 */
public final class WireClock {
    /** Before the first descriptor the wire is free from any time on, whatever origin the caller's clock has. */
    private static final long IDLE = Long.MIN_VALUE;

    /**
     * What one descriptor cost the wire and when it arrives.
     *
     * @param wireBytes bytes it put on the wire, every transmission counted
     * @param tlps      TLPs of one transmission (the packet's data TLPs and the descriptor's completion)
     * @param busyNanos time the wire was busy with it
     * @param deliverAt when the far end has it: the wire's last byte plus the profile's latency
     */
    public record Transfer(long wireBytes, int tlps, long busyNanos, long deliverAt) {
    }

    private TlpModel model;
    private long wireFree = IDLE;
    private long stalledUntil = IDLE;

    public WireClock(LinkProfile profile) {
        this.model = new TlpModel(profile);
    }

    /** A new profile applies from the next descriptor on; what is already on the wire keeps its times. */
    public void profile(LinkProfile next) {
        this.model = new TlpModel(next);
    }

    public LinkProfile profile() {
        return model.profile();
    }

    public TlpModel model() {
        return model;
    }

    /** A descriptor of {@code packetBytes} sent once. */
    public Transfer send(long now, int packetBytes) {
        return send(now, packetBytes, 1);
    }

    /**
     * Puts a descriptor of {@code packetBytes} on the wire at {@code now}, {@code transmissions} times (2 when
     * the data-link layer replayed it after a CRC error: the far end still gets it once, at the end).
     */
    public Transfer send(long now, int packetBytes, int transmissions) {
        long wire = model.wireBytes(packetBytes) * transmissions;
        long busy = model.nanos(wire);
        wireFree = Math.max(now, wireFree) + busy;
        long deliverAt = model.profile().paced() ? wireFree + model.profile().latency().toNanos() : now;
        return new Transfer(wire, model.tlps(packetBytes), busy, deliverAt);
    }

    /** A doorbell or interrupt (one 4-byte memory write) sent on this wire at {@code now}. */
    public void notification(long now) {
        if (model.profile().paced()) {
            wireFree = Math.max(wireFree, now) + model.nanos(model.notificationWireBytes());
        }
    }

    /** When the wire has finished everything sent so far (its idle origin before the first send). */
    public long wireFree() {
        return wireFree;
    }

    /** The STALL fault: nothing is sent for {@code nanos} from {@code now}. */
    public void stall(long now, long nanos) {
        stalledUntil = now + nanos;
    }

    public boolean stalled(long now) {
        return now < stalledUntil;
    }

    public long stalledUntil() {
        return stalledUntil;
    }

    /** The link retrained: nothing is on the wire any more. A stall in progress goes on. */
    public void reset() {
        wireFree = IDLE;
    }
}
