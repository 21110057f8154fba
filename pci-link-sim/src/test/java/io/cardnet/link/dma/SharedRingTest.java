package io.cardnet.link.dma;

import io.cardnet.netdev.Bell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared ring's handshake between two threads over real shared memory and real FIFOs: every descriptor
 * arrives once and in order, a full ring holds the producer back, and neither side ever sleeps through a
 * publish or a release (a lost wake-up would hang a side until the test's deadline).
 */
class SharedRingTest {
    private static final int DEPTH = 64;
    private static final long COUNT = 200_000;

    @TempDir
    Path dir;

    @Test
    void everyDescriptorArrivesOnceInOrderAndNoWakeUpIsLost() throws Exception {
        Path file = dir.resolve("h2c.ring");
        Bell.create(dir.resolve("consumer.bell"));
        Bell.create(dir.resolve("producer.bell"));
        int tag = 7;
        try (SharedRing setup = SharedRing.create(file);
             SharedRing producerView = SharedRing.open(file);
             SharedRing consumerView = SharedRing.open(file);
             Bell consumerBell = Bell.open(dir.resolve("consumer.bell"));
             Bell producerBell = Bell.open(dir.resolve("producer.bell"))) {
            setup.reset(tag, DEPTH);
            ExecutorService two = Executors.newFixedThreadPool(2);
            try {
                Future<long[]> producer = two.submit(() -> produce(producerView, tag, consumerBell, producerBell));
                Future<long[]> consumer = two.submit(() -> consume(consumerView, tag, consumerBell, producerBell));
                long[] p = producer.get(120, TimeUnit.SECONDS);
                long[] c = consumer.get(120, TimeUnit.SECONDS);
                assertEquals(COUNT, c[0], "descriptors consumed");
                System.out.printf("shared ring: %d descriptors, %d doorbells rung, %d credit stalls, %d completion bells%n",
                        COUNT, p[0], p[1], c[1]);
                assertTrue(p[0] <= COUNT, "at most one doorbell per publish");
                assertEquals(0, setup.occupancy(), "the ring ends empty");
            } finally {
                two.shutdownNow();
            }
        }
    }

    /** Publishes COUNT descriptors in random bursts; each entry's length encodes its sequence. */
    private static long[] produce(SharedRing ring, int tag, Bell consumer, Bell mine) {
        SplittableRandom random = new SplittableRandom(11);
        long seq = 0;
        long head = 0;
        long bells = 0;
        long stalls = 0;
        while (seq < COUNT) {
            int burst = 1 + random.nextInt(DEPTH);
            for (int i = 0; i < burst && seq < COUNT; i++) {
                head = SharedRing.sequenceOf(ring.head());
                if (seq - head >= DEPTH) {
                    ring.armProducer();
                    head = SharedRing.sequenceOf(ring.head());
                    if (seq - head >= DEPTH) {
                        stalls++;
                        assertTrue(mine.await(10_000), "the consumer freed a slot but never rang (lost wake-up)");
                        mine.drain();
                    } else {
                        ring.disarmProducer();
                    }
                    i--;
                    continue;
                }
                seq++;
                ring.describe(seq, DEPTH, (int) (seq % 60_000) + 100, tag);
            }
            if (ring.publish(SharedRing.pack(tag, seq))) {
                consumer.ring();
                bells++;
            }
        }
        return new long[]{bells, stalls};
    }

    private static long[] consume(SharedRing ring, int tag, Bell mine, Bell producer) {
        long processed = 0;
        long bells = 0;
        while (processed < COUNT) {
            long tail = SharedRing.sequenceOf(ring.tail());
            if (tail == processed) {
                ring.armConsumer();
                if (SharedRing.sequenceOf(ring.tail()) == processed) {
                    assertTrue(mine.await(10_000), "the producer published but never rang (lost wake-up)");
                    mine.drain();
                }
                ring.disarmConsumer();
                continue;
            }
            for (long s = processed + 1; s <= tail; s++) {
                assertEquals((int) (s % 60_000) + 100, ring.frameLength(s, DEPTH), "descriptor " + s);
                assertEquals(tag, ring.epochTag(s, DEPTH));
            }
            processed = tail;
            if (ring.release(SharedRing.pack(tag, processed))) {
                producer.ring();
                bells++;
            }
        }
        return new long[]{processed, bells};
    }

    @Test
    void indicesFromAnotherEpochAreRecognisable() throws Exception {
        try (SharedRing r = SharedRing.create(dir.resolve("c2h.ring"))) {
            r.reset(5, 256);
            assertEquals(5, r.epoch());
            assertEquals(256, r.depth());
            assertEquals(5, SharedRing.epochOf(r.tail()));
            r.publish(SharedRing.pack(4, 900));
            assertEquals(4, SharedRing.epochOf(r.tail()), "a stale producer's tail carries its own epoch");
            assertEquals(0, r.occupancy(), "indices of two epochs are not compared");
            assertTrue(Files.size(dir.resolve("c2h.ring")) >= SharedRing.BYTES);
        }
    }
}
