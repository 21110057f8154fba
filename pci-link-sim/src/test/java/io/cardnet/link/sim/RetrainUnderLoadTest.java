package io.cardnet.link.sim;

import io.cardnet.link.model.Coalescing;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.port.BusPort;
import io.cardnet.link.port.BusPortConfig;
import io.cardnet.link.port.BusQueue;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Slots and retrains: two real ends of two queue pairs each (BusPort, the simulator, DMA regions and direct rings in
 * /dev/shm), both sending bulk traffic of mixed sizes the way a TUN pump does, while the link retrains over and over:
 * between its direct rings and the simulator's engines (coalescing on and off, as `link set` does), and by 0 ms flaps.
 * A slot reused before the simulator or the consumer read it, or read with another geometry, shows as a refusal
 * (the simulator's {@code bad_length}/{@code bad_slot}, an end's {@code cardnet_tun_bus_refused_total}), as a packet
 * whose bytes are not the ones its sender wrote, or as a descriptor left in a ring at rest.
 *
 * <p>What it caught (each in 3 of 3 runs before the fix):
 * <ul>
 *   <li>an end of several queues set its link up before queue 0 had heard it, and queue 0's pump posted on the
 *       socket path without credits in between: on a direct-ring epoch DESCs the simulator kept in its engine for
 *       good (255 descriptors left at rest), on a socket-path epoch a ring overrun (slots rewritten before they were
 *       read; the link wedged with negative credits within 5 to 11 retrains) (fixed in {@code BusQueue.post});</li>
 *   <li>the new epoch's producer reused slots its peer still read for the old one, which had not yet heard
 *       LINK_DOWN: 5 to 61 packets per run delivered with bytes that were not the ones sent (fixed by the retrain
 *       handshake, {@code Link} and {@code BusPort}).</li>
 * </ul>
 */
class RetrainUnderLoadTest {
    private static final int QUEUES = 2;
    /** Retrains: every third a 0 ms flap, the others each switch the path (direct rings ⇄ the simulator's engines). */
    private static final int RETRAINS = 60;
    /** Packets each end must receive between two retrains, so each epoch carries bulk traffic both ways. */
    private static final int PER_EPOCH = 300;
    private static final int BURST = 32;
    /** Packet sizes a TUN hands over in bulk TCP: ACKs, MTU-sized segments, GSO super-packets. */
    private static final int[] SIZES = {52, 1500, 65535, 40, 9000, 32768, 100, 60000};
    private static final byte[] PATTERN = new byte[65535 + 256];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) (i * 131 + (i >>> 8));
        }
    }

    @Test
    void retrainsAndPathSwitchesUnderBulkTrafficNeverMisreadOrStrandASlot() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-retrain");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-retrain");
        BusAddress hostPort = new BusAddress.Unix(dir.resolve("host.sock"));
        BusAddress cardPort = new BusAddress.Unix(dir.resolve("card.sock"));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        LinkSettings direct = LinkSettings.DEFAULT;
        // coalescing is per-descriptor work: the link leaves its direct rings for the simulator's engines
        LinkSettings engines = direct.withCoalescing(Direction.H2C, new Coalescing(16, 50, false))
                .withCoalescing(Direction.C2H, new Coalescing(16, 50, false));
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, cardPort, null,
                new Liveness(Duration.ofMillis(100), 20), 0, dma, QUEUES), direct, registry).start();
             Load host = new Load(Role.ROOT_COMPLEX, hostPort, dma);
             Load card = new Load(Role.ENDPOINT, cardPort, dma)) {
            int switches = 0;
            int flaps = 0;
            boolean onEngines = false;
            for (int i = 0; i <= RETRAINS; i++) {
                long hostHad = host.received.get();
                long cardHad = card.received.get();
                await(() -> host.received.get() >= hostHad + PER_EPOCH && card.received.get() >= cardHad + PER_EPOCH,
                        "epoch " + sim.status().epoch() + " (retrain " + i + ") carried " + PER_EPOCH
                                + " packets each way; " + host + "; " + card);
                if (i == RETRAINS) {
                    break;
                }
                long epoch = sim.status().epoch();
                if (i % 3 == 2) {
                    sim.inject(FaultKind.FLAP, Direction.H2C, 0);
                    flaps++;
                } else {
                    onEngines = !onEngines;
                    sim.apply(onEngines ? engines : direct);
                    switches++;
                }
                // each step its own epoch: the next one starts once this one is up
                await(() -> {
                    LinkStatus now = sim.status();
                    return now.epoch() > epoch && now.state().equals("UP");
                }, "the link retrained after epoch " + epoch);
            }
            if (!sim.settings().equals(direct)) {
                sim.apply(direct);
                switches++;
            }
            await(() -> host.port.direct() && card.port.direct(), "the link is back on its direct rings");
            host.stop();
            card.stop();
            // at rest: every descriptor either end published was consumed and its slot given back
            await(() -> occupancy(registry, Direction.H2C) == 0 && occupancy(registry, Direction.C2H) == 0,
                    "no descriptor left in a ring at rest: h2c " + occupancy(registry, Direction.H2C) + ", c2h "
                            + occupancy(registry, Direction.C2H));

            LinkStatus s = sim.status();
            Map<String, Double> counters = new TreeMap<>(s.counters());
            System.out.printf("%d retrains (%d path switches, %d flaps), epoch %d; host sent %d received %d (%d MB), "
                            + "card sent %d received %d (%d MB); counters %s%n", switches + flaps, switches, flaps,
                    s.epoch(), host.sent.get(), host.received.get(), host.bytes.get() >> 20, card.sent.get(),
                    card.received.get(), card.bytes.get() >> 20, counters);
            assertEquals(0, host.corrupt.get() + card.corrupt.get(),
                    "packets whose bytes are not what their sender wrote: host " + host.firstProblem + ", card " + card.firstProblem);
            assertEquals(0, host.outOfOrder.get() + card.outOfOrder.get(),
                    "packets delivered twice or out of order: host " + host.firstProblem + ", card " + card.firstProblem);
            for (Role r : Role.values()) {
                for (FrameFault.Kind k : FrameFault.Kind.values()) {
                    assertEquals(0, counter(counters, "fault/" + r.shortName() + "/" + k.tag()),
                            "the simulator refused a real " + r.description() + "'s descriptor as " + k.tag());
                }
            }
            for (Load end : new Load[]{host, card}) {
                for (FrameFault.Kind k : FrameFault.Kind.values()) {
                    assertEquals(0, end.port.refusals(k), end.role.description() + " refused from the bus: " + k.tag());
                }
            }
            for (Direction d : Direction.values()) {
                for (String reason : new String[]{"replayed", "out_of_window", "ring_overrun"}) {
                    assertEquals(0, counter(counters, "drop/" + d.tag() + "/" + reason), d.tag() + " drops " + reason);
                }
            }
        } finally {
            Files.deleteIfExists(dir.resolve("host.sock"));
            Files.deleteIfExists(dir.resolve("card.sock"));
            Files.deleteIfExists(dir);
        }
        assertTrue(!Files.exists(dma), "the simulator left its DMA directory behind");
    }

    private static double occupancy(SimpleMeterRegistry registry, Direction d) {
        return registry.get("cardnet.ring.occupancy").tag("direction", d.tag()).gauge().value();
    }

    private static long counter(Map<String, Double> counters, String key) {
        Double v = counters.get(key);
        return v == null ? 0 : v.longValue();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(5);
        }
    }

    /**
     * A packet: IPv4 (so the bus's checks see its real length) whose body after the header is the sender's role,
     * queue and counter, then {@link #PATTERN} from an offset the counter picks.
     */
    private static int writePacket(ByteBuf b, int at, Role role, int queue, long n) {
        int length = SIZES[(int) (n % SIZES.length)];
        b.setByte(at, 0x45);
        b.setByte(at + 1, 0);
        b.setShort(at + 2, length);
        b.setZero(at + 4, 16);
        b.setByte(at + 9, 253); // an experimental protocol: nothing in the bus or the policies looks past the header
        b.setByte(at + 20, role.ordinal());
        b.setByte(at + 21, queue);
        b.setLong(at + 22, n);
        int rest = length - 30;
        if (rest > 0) {
            b.setBytes(at + 30, PATTERN, (int) (n % 251), rest);
        }
        return length;
    }

    /** One end: a real BusPort of {@link #QUEUES} queue pairs, a producer per queue, and a checking consumer. */
    private static final class Load implements AutoCloseable {
        final Role role;
        final BusPort port;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong corrupt = new AtomicLong();
        final AtomicLong outOfOrder = new AtomicLong();
        volatile String firstProblem = "none";
        private final Producer[] producers = new Producer[QUEUES];
        /** The last counter received from each of the peer's queues (each sending queue's stream is in order). */
        private final long[] lastFrom = new long[QUEUES];
        private volatile boolean stopped;

        Load(Role role, BusAddress address, Path dma) {
            this.role = role;
            this.port = new BusPort(new BusPortConfig(role, address, Features.CSUM_UNNECESSARY,
                    new Liveness(Duration.ofMillis(100), 20), Duration.ofMillis(50), dma, QUEUES), q -> {
                producers[q] = new Producer(q);
                return producers[q];
            }).start();
        }

        void stop() throws Exception {
            stopped = true;
            for (int q = 0; q < QUEUES; q++) {
                // a last turn of each queue's loop: no burst runs after this
                port.queue(q).eventLoop().submit(() -> { }).get(5, TimeUnit.SECONDS);
            }
        }

        private void problem(AtomicLong count, String what) {
            if (count.getAndIncrement() == 0) {
                firstProblem = what;
            }
        }

        /** A queue's producer and consumer, on the queue's bus thread, like a TUN queue's pump. */
        private final class Producer implements BusPort.Listener {
            private final int queue;
            private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
            private long next;
            private boolean queued;

            Producer(int queue) {
                this.queue = queue;
            }

            private BusQueue q() {
                return port.queue(queue);
            }

            private void kick() {
                if (!queued && !stopped) {
                    queued = true;
                    q().eventLoop().execute(this::burst);
                }
            }

            /**
             * What {@code TunPump.readBurst} does with a TUN that always has a packet: out of credits it waits for
             * {@link #writable()}; while its queue is not up it still takes a buffer and posts (and the post says
             * no), as the pump drains its TUN; a queue the link does not run reads nothing (its TUN queue is
             * detached).
             */
            private void burst() {
                queued = false;
                if (stopped) {
                    return;
                }
                BusQueue p = q();
                if (!p.isUp() && queue != 0 && !p.active()) {
                    return; // linkUp wakes it
                }
                int moved = 0;
                boolean credit = true;
                while (moved < BURST) {
                    if (p.isUp() && !p.isWritable()) {
                        credit = false;
                        break;
                    }
                    BusPort.TxBuffer tx = p.nextBuffer(alloc);
                    ByteBuf buf = tx.buffer();
                    long n = ++next;
                    buf.setZero(Data.VNET_OFFSET, VnetHeader.SIZE);
                    int length = writePacket(buf, Data.PACKET_OFFSET, role, queue, n);
                    Data data = Data.seal(buf, VnetHeader.SIZE + length);
                    if (!p.post(tx, data)) {
                        data.release();
                        if (!p.isUp()) {
                            break;
                        }
                        continue;
                    }
                    moved++;
                    sent.incrementAndGet();
                }
                if (moved > 0) {
                    p.flush();
                }
                if (!credit) {
                    // writable() kicks when credits come back; this only guards against a missed one
                    p.eventLoop().schedule(this::kick, 5, TimeUnit.MILLISECONDS);
                } else if (moved == BURST) {
                    kick();
                } else {
                    // not up: as a pump keeps draining its TUN, look again shortly
                    p.eventLoop().schedule(this::kick, 50, TimeUnit.MICROSECONDS);
                }
            }

            @Override
            public void linkUp(LinkUp up) {
                kick();
            }

            @Override
            public void linkDown(String reason) {
                kick();
            }

            @Override
            public void writable() {
                kick();
            }

            @Override
            public void receive(Data data) {
                try {
                    check(data.content(), Data.PACKET_OFFSET, data.packetLength());
                } finally {
                    data.release();
                }
            }

            private void check(ByteBuf b, int at, int length) {
                received.incrementAndGet();
                bytes.addAndGet(length);
                int from = b.getUnsignedByte(at + 21);
                long n = b.getLong(at + 22);
                if (b.getUnsignedByte(at + 20) != role.peer().ordinal() || from >= QUEUES || n <= 0) {
                    problem(corrupt, "not a packet of the " + role.peer().description() + ": "
                            + ByteBufUtil.hexDump(b, at, Math.min(length, 40)));
                    return;
                }
                ByteBuf expected = io.netty.buffer.Unpooled.buffer(SIZES[(int) (n % SIZES.length)]);
                int want = writePacket(expected, 0, role.peer(), from, n);
                expected.writerIndex(want);
                if (want != length || !ByteBufUtil.equals(b, at, expected, 0, length)) {
                    problem(corrupt, "packet " + n + " of queue " + from + " arrived as " + length
                            + " bytes that differ from the " + want + " sent");
                    return;
                }
                synchronized (lastFrom) {
                    if (n <= lastFrom[from]) {
                        problem(outOfOrder, "packet " + n + " of queue " + from + " after " + lastFrom[from]);
                    }
                    lastFrom[from] = Math.max(lastFrom[from], n);
                }
            }
        }

        @Override
        public String toString() {
            return role.shortName() + " sent " + sent + " received " + received;
        }

        @Override
        public void close() {
            stopped = true;
            port.close();
        }
    }
}
