package io.cardnet.link.model;

import io.netty.buffer.ByteBuf;

import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * One direction's probabilistic faults ({@link FaultSettings}): whether each fires for a descriptor (or a
 * doorbell), and what it does to the packet's bytes. The engine that moves the descriptor decides what a
 * fault means for delivery (a drop returns the credit, a reorder holds the descriptor, a replay is charged to
 * the {@link WireClock}) and counts it.
 *
 * <p>It has its own random source, seedable so a test sees the same faults every run. A packet is named by a
 * buffer, the offset of its IP header and its length, so any end that holds the bytes can inject the faults,
 * not only the simulator. Not thread-safe: one thread owns a direction.
 */
public final class FaultInjector {

    /** What a BITFLIP did to one descriptor on the wire. */
    public enum Bitflip {
        /** no bit flipped */
        NONE(1),
        /** a bit flipped, the link CRC caught it and the data-link layer replayed the TLPs: the wire carried them twice */
        REPLAYED(2),
        /** a bit flipped and the CRC missed it: cannot happen for one bit with CRC-32C; the packet is left intact */
        ESCAPED(1);

        private final int transmissions;

        Bitflip(int transmissions) {
            this.transmissions = transmissions;
        }

        /** How many times the wire carried the descriptor: what {@link WireClock#send(long, int, int)} charges. */
        public int transmissions() {
            return transmissions;
        }
    }

    private final SplittableRandom random;
    private FaultSettings settings;

    /** Faults that differ from run to run. */
    public FaultInjector(FaultSettings settings) {
        this(settings, new SplittableRandom());
    }

    /** Faults that repeat for the same seed (tests). */
    public FaultInjector(FaultSettings settings, long seed) {
        this(settings, new SplittableRandom(seed));
    }

    private FaultInjector(FaultSettings settings, SplittableRandom random) {
        this.settings = settings;
        this.random = random;
    }

    /** New probabilities, from the next draw on. */
    public void settings(FaultSettings next) {
        this.settings = next;
    }

    public FaultSettings settings() {
        return settings;
    }

    /** One draw for a probabilistic fault: true with its probability (never for a fault that is off). */
    public boolean fires(FaultKind kind) {
        double p = settings.probability(kind);
        return p > 0 && random.nextDouble() < p;
    }

    /** LOST_DOORBELL, drawn per doorbell: the engine ignores it and its poll timer finds the descriptors. */
    public boolean loseDoorbell() {
        return fires(FaultKind.LOST_DOORBELL);
    }

    /** DROP, drawn per descriptor after it crossed the wire. */
    public boolean drop() {
        return fires(FaultKind.DROP);
    }

    /** REORDER, drawn per descriptor about to be delivered while another is behind it. */
    public boolean reorder() {
        return fires(FaultKind.REORDER);
    }

    /**
     * BITFLIP, drawn per descriptor as it goes on the wire. If it fires, one bit of the packet flips before the
     * link CRC: CRC-32C (standing in for the LCRC) is computed before and after, and a mismatch is what the
     * receiver's data-link layer detects, so it replays the TLPs from its replay buffer. The bit is flipped back
     * either way: the consumer gets the original, and the wire carried it {@link Bitflip#transmissions()} times.
     */
    public Bitflip bitflip(ByteBuf buf, int offset, int length) {
        if (length <= 0 || !fires(FaultKind.BITFLIP)) {
            return Bitflip.NONE;
        }
        long sent = crc(buf, offset, length);
        int bit = random.nextInt(length * 8);
        flipBit(buf, offset, bit);
        boolean detected = crc(buf, offset, length) != sent;
        flipBit(buf, offset, bit);
        return detected ? Bitflip.REPLAYED : Bitflip.ESCAPED;
    }

    /**
     * POISON, drawn per descriptor as it is delivered. If it fires, one payload byte flips after the CRC check
     * (a poisoned buffer). IP and TCP/UDP headers are spared so the packet still reaches its socket: what happens
     * next is up to the consumer's checksum policy. Returns true if a byte was poisoned (false as well for a
     * packet without payload or not IPv4).
     */
    public boolean poison(ByteBuf buf, int offset, int length) {
        if (!fires(FaultKind.POISON)) {
            return false;
        }
        int at = payloadStart(buf, offset, length);
        if (at < 0) {
            return false;
        }
        at += random.nextInt(offset + length - at);
        buf.setByte(at, buf.getByte(at) ^ 0x01);
        return true;
    }

    /** Where an IPv4 packet's payload starts past its IP and TCP/UDP headers, or -1 if it has none. */
    private static int payloadStart(ByteBuf b, int p, int len) {
        if (len < 20 || (b.getUnsignedByte(p) >> 4) != 4) {
            return -1;
        }
        int l4 = (b.getUnsignedByte(p) & 0x0f) * 4;
        int proto = b.getUnsignedByte(p + 9);
        int headers = l4 + switch (proto) {
            case 6 -> len > l4 + 12 ? (b.getUnsignedByte(p + l4 + 12) >> 4) * 4 : len;
            case 17 -> 8;
            default -> len;
        };
        return headers >= len ? -1 : p + headers;
    }

    private static long crc(ByteBuf buf, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.nioBuffer(offset, length));
        return crc.getValue();
    }

    private static void flipBit(ByteBuf buf, int offset, int bit) {
        int at = offset + bit / 8;
        buf.setByte(at, buf.getByte(at) ^ (1 << (bit % 8)));
    }
}
