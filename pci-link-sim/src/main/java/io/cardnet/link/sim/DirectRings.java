package io.cardnet.link.sim;

import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Role;
import io.cardnet.netdev.Bell;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The simulator's side of the direct path: for each queue pair it makes the two descriptor rings and the two ends'
 * doorbells next to the DMA regions, sets the rings up for each epoch before the ends hear LINK_UP, and reads the
 * rings' counters into its metrics every {@link #SYNC_MILLIS} ms (totals per direction, and per queue). It never touches a descriptor: on the direct path the link
 * model's work per packet is nil (unpaced, no faults, no capture), so nothing needs the simulator in between.
 */
final class DirectRings implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DirectRings.class);
    static final long SYNC_MILLIS = 100;

    private final Path dir;
    private final SimMetrics metrics;
    private final int queues;
    /** rings[direction][queue] */
    private final SharedRing[][] rings;
    private final long[][][] seen;
    private ScheduledFuture<?> sync;

    private DirectRings(Path dir, SimMetrics metrics, int queues) {
        this.dir = dir;
        this.metrics = metrics;
        this.queues = queues;
        this.rings = new SharedRing[Direction.values().length][queues];
        this.seen = new long[Direction.values().length][queues][];
    }

    /** Makes the rings and bells of {@code queues} queue pairs in {@code dmaDir}; null (and why, logged) if it cannot. */
    static DirectRings create(Path dmaDir, int queues, SimMetrics metrics, EventLoop loop) {
        DirectRings d = new DirectRings(dmaDir, metrics, queues);
        try {
            for (Direction dir : Direction.values()) {
                for (int q = 0; q < queues; q++) {
                    SharedRing r = SharedRing.create(SharedRing.file(dmaDir, dir, q));
                    d.rings[dir.ordinal()][q] = r;
                    d.seen[dir.ordinal()][q] = counters(r);
                }
            }
            for (Role r : Role.values()) {
                for (int q = 0; q < queues; q++) {
                    Bell.create(SharedRing.bell(dmaDir, r, q));
                }
            }
        } catch (IOException e) {
            log.warn("no direct rings ({}); descriptors will cross the simulator", e.getMessage());
            d.close();
            return null;
        }
        d.sync = loop.scheduleAtFixedRate(d::sync, SYNC_MILLIS, SYNC_MILLIS, TimeUnit.MILLISECONDS);
        return d;
    }

    /** Queue pairs this simulator made rings for: the most a link may run. */
    int queues() {
        return queues;
    }

    /** Empties every ring for a new epoch; called on the bus thread before the ends hear LINK_UP. */
    void reset(long epoch, int depth) {
        sync();
        for (SharedRing[] perDirection : rings) {
            for (SharedRing r : perDirection) {
                r.reset(epoch, depth);
            }
        }
    }

    /** Publishes the link model every producer paces by (each ring's transmitter reads it at its next burst). */
    void profile(io.cardnet.link.model.LinkProfile p) {
        for (SharedRing[] perDirection : rings) {
            for (SharedRing r : perDirection) {
                r.profile(p);
            }
        }
    }

    /** Stalls {@code d}'s rings: their consumer takes nothing for {@code millis} (the STALL fault on the direct path). */
    void stall(Direction d, long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (SharedRing r : rings[d.ordinal()]) {
            r.holdUntil(until);
        }
    }

    /** Descriptors published and not yet consumed in {@code d}'s rings. */
    long occupancy(Direction d) {
        long n = 0;
        for (SharedRing r : rings[d.ordinal()]) {
            n += r == null ? 0 : r.occupancy();
        }
        return n;
    }

    /** Adds what the rings counted since the last look to the simulator's metrics. */
    void sync() {
        for (Direction d : Direction.values()) {
            for (int q = 0; q < queues; q++) {
                SharedRing r = rings[d.ordinal()][q];
                if (r == null) {
                    continue;
                }
                long[] now = counters(r);
                long[] before = seen[d.ordinal()][q];
                long frames = delta(now, before, SharedRing.Counter.PACKETS);
                long bytes = delta(now, before, SharedRing.Counter.BYTES);
                metrics.carriedDirect(d, frames, bytes, delta(now, before, SharedRing.Counter.DOORBELLS),
                        delta(now, before, SharedRing.Counter.COMPLETIONS));
                metrics.carriedOnQueue(d, q, frames, bytes);
                metrics.pacedDirect(d, delta(now, before, SharedRing.Counter.TLPS),
                        delta(now, before, SharedRing.Counter.WIRE_BUSY_NANOS));
                seen[d.ordinal()][q] = now;
            }
        }
    }

    private static long delta(long[] now, long[] before, SharedRing.Counter c) {
        return Math.max(0, now[c.ordinal()] - before[c.ordinal()]);
    }

    private static long[] counters(SharedRing r) {
        long[] v = new long[SharedRing.Counter.values().length];
        for (SharedRing.Counter c : SharedRing.Counter.values()) {
            v[c.ordinal()] = r.counter(c);
        }
        return v;
    }

    /** A ring counter's value now, summed over {@code d}'s queues (for status and metrics). */
    long counter(Direction d, SharedRing.Counter c) {
        long n = 0;
        for (SharedRing r : rings[d.ordinal()]) {
            n += r == null ? 0 : r.counter(c);
        }
        return n;
    }

    @Override
    public void close() {
        if (sync != null) {
            sync.cancel(false);
        }
        for (Direction d : Direction.values()) {
            for (int q = 0; q < queues; q++) {
                if (rings[d.ordinal()][q] != null) {
                    rings[d.ordinal()][q].close();
                }
                deleteQuietly(SharedRing.file(dir, d, q));
            }
        }
        for (Role r : Role.values()) {
            for (int q = 0; q < queues; q++) {
                deleteQuietly(SharedRing.bell(dir, r, q));
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            log.warn("could not remove {}: {}", p, e.toString());
        }
    }
}
