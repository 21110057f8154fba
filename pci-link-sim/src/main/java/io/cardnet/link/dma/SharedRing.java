package io.cardnet.link.dma;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One direction's descriptor ring in shared memory, as real hardware and vhost-user keep it: the producer writes a
 * descriptor per DMA slot and publishes its tail; the consumer reads up to the tail and publishes its head, which
 * gives the producer its credits back. Nobody in between touches a packet. The file sits next to the direction's
 * {@link DmaRegion}; slot {@code sequence mod depth} of the region holds descriptor {@code sequence}'s frame.
 *
 * <pre>
 *   off   field           written by
 *     0   magic "CNRING1"  the simulator (at each reset)
 *     8   epoch           the simulator: the link epoch the ring was reset for
 *    16   depth           the simulator
 *    64   tail            the producer: descriptors published (sequence of the last one; epoch tag above bit 48)
 *   128   head            the consumer: descriptors consumed; their slots are free again (same packing)
 *   192   consumer armed  the consumer, before it sleeps: "ring my bell when you publish"
 *   256   producer armed  the producer, out of credits: "ring my bell when you free a slot"
 *   264   hold until      the simulator (an injected stall): CLOCK_MONOTONIC ns before which the consumer
 *                         moves nothing, as a stalled DMA engine would not
 *   320   counters        u64 each, one writer each (see {@link Counter})
 *  1024   profile         the simulator: version (u64, bumped after each change), PCIe generation (u32, 0 =
 *                         unlimited), lanes (u32), max payload (u32), latency ns (u64): the link model the
 *                         producer paces its descriptors by, as a real link's transmitter does
 *  4096   entries[4096]   u32 frame length, u16 epoch tag, u16 0
 * </pre>
 *
 * Tail, head and the two armed words are read and written with volatile (sequentially consistent) accesses: a
 * side that arms and then re-reads the other side's index can never miss a publish that did not see it armed,
 * so a wake-up is never lost and no bell is rung while the other side is busy anyway (notification suppression,
 * as virtio's event index does). Everything else is plain memory ordered by those accesses.
 */
public final class SharedRing implements AutoCloseable {
    private static final long MAGIC = 0x31474e49524e43L; // "CNRING1" little-endian
    private static final long OFF_MAGIC = 0;
    private static final long OFF_EPOCH = 8;
    private static final long OFF_DEPTH = 16;
    private static final long OFF_TAIL = 64;
    private static final long OFF_HEAD = 128;
    private static final long OFF_CONSUMER_ARMED = 192;
    private static final long OFF_PRODUCER_ARMED = 256;
    private static final long OFF_HOLD = 264;
    private static final long OFF_COUNTERS = 320;
    private static final long OFF_PROFILE_VERSION = 1024;
    private static final long OFF_PROFILE_GEN = 1032;
    private static final long OFF_PROFILE_LANES = 1036;
    private static final long OFF_PROFILE_MPS = 1040;
    private static final long OFF_PROFILE_LATENCY = 1048;
    private static final long OFF_ENTRIES = 4096;
    private static final int ENTRY = 8;
    /** Bytes of a ring file. */
    public static final long BYTES = OFF_ENTRIES + (long) DmaRegion.SLOTS * ENTRY;

    private static final long SEQUENCE_MASK = (1L << 48) - 1;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    /** Counters kept in the ring, each written by one side only, read by the simulator for its metrics. */
    public enum Counter {
        /** Descriptors published (producer). */
        PACKETS,
        /** Packet bytes published (producer). */
        BYTES,
        /** Bells the producer rang because the consumer had armed (doorbells that woke the consumer). */
        DOORBELLS,
        /** Bells the consumer rang because the producer waited for credits (completion interrupts). */
        COMPLETIONS,
        /** Times the producer found the ring full and waited (credit stalls). */
        CREDIT_STALLS,
        /** Times the consumer was woken by its bell and looked at the ring. */
        CONSUMER_WAKEUPS,
        /** Descriptors the consumer refused (bad length, stale epoch): a broken or hostile producer. */
        REFUSED,
        /** TLPs the producer's paced wire carried (producer). */
        TLPS,
        /** Nanoseconds the producer's paced wire was busy (producer). */
        WIRE_BUSY_NANOS
    }

    private final Path path;
    private final Arena arena;
    private final MemorySegment memory;

    private SharedRing(Path path, Arena arena, MemorySegment memory) {
        this.path = path;
        this.arena = arena;
        this.memory = memory;
    }

    /** Queue {@code queue}'s ring of a direction, in the simulator's DMA directory ({@code h2c.q0.ring}). */
    public static Path file(Path dmaDir, io.cardnet.link.protocol.Direction d, int queue) {
        return dmaDir.resolve(d.tag() + ".q" + queue + ".ring");
    }

    /** An end's doorbell for one queue (a FIFO, {@code io.cardnet.netdev.Bell}): {@code rc.q0.bell}. */
    public static Path bell(Path dmaDir, io.cardnet.link.protocol.Role r, int queue) {
        return dmaDir.resolve(r.shortName() + ".q" + queue + ".bell");
    }

    /**
     * The first DMA slot of a queue: queue {@code q} of a ring of {@code depth} owns slots {@code q*depth} to
     * {@code (q+1)*depth - 1} of its direction's region, so queues never share a slot.
     */
    public static int slotBase(int queue, int depth) {
        return queue * depth;
    }

    /** The simulator makes the ring file (owner-only), or reuses the one there. */
    public static SharedRing create(Path path) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        if (!Files.isRegularFile(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(path);
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        return map(path);
    }

    /** An end maps the ring its simulator made. */
    public static SharedRing open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("no descriptor ring at " + path + "; the simulator makes it when started with --dma");
        }
        return map(path);
    }

    private static SharedRing map(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (ch.size() < BYTES) {
                ch.truncate(BYTES);
                ch.write(java.nio.ByteBuffer.allocate(1), BYTES - 1);
            }
            return new SharedRing(path, arena, ch.map(FileChannel.MapMode.READ_WRITE, 0, BYTES, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new IOException("cannot map the descriptor ring " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** The simulator, while neither end uses the ring (between epochs): empty, for {@code epoch} and {@code depth}. */
    public void reset(long epoch, int depth) {
        if (depth < 1 || depth > DmaRegion.SLOTS) {
            throw new IllegalArgumentException("ring depth " + depth + " is outside 1.." + DmaRegion.SLOTS);
        }
        LONG.setVolatile(memory, OFF_TAIL, pack((int) epoch, 0));
        LONG.setVolatile(memory, OFF_HEAD, pack((int) epoch, 0));
        LONG.setVolatile(memory, OFF_CONSUMER_ARMED, 0L);
        LONG.setVolatile(memory, OFF_PRODUCER_ARMED, 0L);
        LONG.setVolatile(memory, OFF_HOLD, 0L);
        LONG.setVolatile(memory, OFF_DEPTH, (long) depth);
        LONG.setVolatile(memory, OFF_EPOCH, epoch);
        LONG.setVolatile(memory, OFF_MAGIC, MAGIC);
    }

    /** The epoch the ring was last reset for; an end uses it only in that epoch. */
    public long epoch() {
        return (long) LONG.getVolatile(memory, OFF_MAGIC) == MAGIC ? (long) LONG.getVolatile(memory, OFF_EPOCH) : -1;
    }

    public int depth() {
        return (int) (long) LONG.getVolatile(memory, OFF_DEPTH);
    }

    // ------------------------------------------------------------------ producer

    /** Writes descriptor {@code sequence}'s entry; it becomes visible with the next {@link #publish}. */
    public void describe(long sequence, int depth, int frameLength, long epoch) {
        long at = OFF_ENTRIES + (sequence % depth) * ENTRY;
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, at, frameLength);
        memory.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + 4, (short) epoch);
    }

    /**
     * Publishes every descriptor up to {@code tail}. True if the consumer had armed its bell (it is asleep or about
     * to be): the caller rings it. The armed word is taken, so one publish rings at most once.
     */
    public boolean publish(long tail) {
        LONG.setVolatile(memory, OFF_TAIL, tail);
        return take(OFF_CONSUMER_ARMED);
    }

    /** Descriptors consumed so far: the producer may have {@code depth} more than this outstanding. */
    public long head() {
        return (long) LONG.getVolatile(memory, OFF_HEAD);
    }

    /** The producer found no credit: ring my bell when you free a slot. Re-check the head after this. */
    public void armProducer() {
        LONG.setVolatile(memory, OFF_PRODUCER_ARMED, 1L);
    }

    /** The producer found a free slot after arming after all. */
    public void disarmProducer() {
        LONG.setVolatile(memory, OFF_PRODUCER_ARMED, 0L);
    }

    // ------------------------------------------------------------------ consumer

    /** The producer's published tail. */
    public long tail() {
        return (long) LONG.getVolatile(memory, OFF_TAIL);
    }

    /** Frame length of descriptor {@code sequence} (as its producer wrote it: check it before use). */
    public int frameLength(long sequence, int depth) {
        return memory.get(ValueLayout.JAVA_INT_UNALIGNED, OFF_ENTRIES + (sequence % depth) * ENTRY);
    }

    /** Low 16 bits of the epoch descriptor {@code sequence} was written in. */
    public int epochTag(long sequence, int depth) {
        return Short.toUnsignedInt(memory.get(ValueLayout.JAVA_SHORT_UNALIGNED, OFF_ENTRIES + (sequence % depth) * ENTRY + 4));
    }

    /**
     * Frees every slot up to {@code head}. True if the producer waited for credits: the caller rings it.
     */
    public boolean release(long head) {
        LONG.setVolatile(memory, OFF_HEAD, head);
        return take(OFF_PRODUCER_ARMED);
    }

    /** The consumer is about to sleep: ring my bell on the next publish. Re-read the tail after this. */
    public void armConsumer() {
        LONG.setVolatile(memory, OFF_CONSUMER_ARMED, 1L);
    }

    /** Withdraws the consumer's arm: it is busy and will look at the ring by itself. */
    public void disarmConsumer() {
        LONG.setVolatile(memory, OFF_CONSUMER_ARMED, 0L);
    }

    /**
     * Tail and head carry the epoch's low 16 bits above a 48-bit sequence, so a write from an end that has not yet
     * heard of a retrain (it still thinks the old epoch is current) is recognisably stale and ignored.
     */
    public static long pack(int epochTag, long sequence) {
        return ((long) (epochTag & 0xffff) << 48) | (sequence & SEQUENCE_MASK);
    }

    public static int epochOf(long packed) {
        return (int) (packed >>> 48);
    }

    public static long sequenceOf(long packed) {
        return packed & SEQUENCE_MASK;
    }

    private boolean take(long offset) {
        return (long) LONG.getVolatile(memory, offset) != 0 && LONG.compareAndSet(memory, offset, 1L, 0L);
    }

    /**
     * The simulator stalls this direction's engine until {@code nanoTime} ({@link System#nanoTime}: CLOCK_MONOTONIC,
     * the same clock in every process of the machine); the consumer takes nothing before then.
     */
    public void holdUntil(long nanoTime) {
        LONG.setVolatile(memory, OFF_HOLD, nanoTime);
    }

    /** Until when the consumer must leave the ring alone (0, or a past time: not at all). */
    public long heldUntil() {
        return (long) LONG.getVolatile(memory, OFF_HOLD);
    }

    /**
     * The simulator publishes the link model the producer paces by. A sequence lock: the version is odd while the
     * fields change, and even (and different) once they are whole.
     */
    public void profile(io.cardnet.link.model.LinkProfile p) {
        LONG.getAndAdd(memory, OFF_PROFILE_VERSION, 1L);
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_GEN, p.paced() ? p.generation().number() : 0);
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_LANES, p.lanes());
        memory.set(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_MPS, p.maxPayload());
        memory.set(ValueLayout.JAVA_LONG_UNALIGNED, OFF_PROFILE_LATENCY, p.latency().toNanos());
        LONG.getAndAdd(memory, OFF_PROFILE_VERSION, 1L);
    }

    /** Moves whenever the simulator publishes a profile; cheap to read per burst. */
    public long profileVersion() {
        return (long) LONG.getVolatile(memory, OFF_PROFILE_VERSION);
    }

    /**
     * The link model the simulator published, read whole (retrying while the simulator writes it); unlimited if it
     * never published one, or if what is there is not a model (the simulator never writes such a thing).
     */
    public io.cardnet.link.model.LinkProfile profile() {
        while (true) {
            long before = profileVersion();
            if ((before & 1) == 1) {
                Thread.onSpinWait();
                continue;
            }
            int gen = memory.get(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_GEN);
            int lanes = memory.get(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_LANES);
            int mps = memory.get(ValueLayout.JAVA_INT_UNALIGNED, OFF_PROFILE_MPS);
            long latency = memory.get(ValueLayout.JAVA_LONG_UNALIGNED, OFF_PROFILE_LATENCY);
            if (profileVersion() != before) {
                continue;
            }
            if (gen == 0) {
                return io.cardnet.link.model.LinkProfile.UNLIMITED;
            }
            try {
                return new io.cardnet.link.model.LinkProfile(io.cardnet.link.model.PcieGeneration.of(gen), lanes, mps,
                        java.time.Duration.ofNanos(latency));
            } catch (RuntimeException notAModel) {
                return io.cardnet.link.model.LinkProfile.UNLIMITED;
            }
        }
    }

    // ------------------------------------------------------------------ counters

    /** Adds to a counter this side owns (one writer per counter, so a plain add published with release). */
    public void count(Counter c, long n) {
        long at = OFF_COUNTERS + c.ordinal() * 8L;
        LONG.setRelease(memory, at, (long) LONG.get(memory, at) + n);
    }

    /** A counter's value now (any process). */
    public long counter(Counter c) {
        return (long) LONG.getAcquire(memory, OFF_COUNTERS + c.ordinal() * 8L);
    }

    /** Descriptors published and not yet consumed (0 while the two indices belong to different epochs). */
    public long occupancy() {
        long t = tail();
        long h = head();
        return epochOf(t) == epochOf(h) ? Math.max(0, sequenceOf(t) - sequenceOf(h)) : 0;
    }

    @Override
    public void close() {
        arena.close();
    }
}
