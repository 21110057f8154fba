package io.cardnet.link.sim;

import io.cardnet.link.hostile.HostileEnd;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile end ({@link HostileEnd}) on one port of a real simulator, with shared-memory DMA regions in /dev/shm
 * and a real, well-behaved end ({@code BusPort}) on the other: the simulator refuses and counts each kind of bad
 * input by name, the healthy end receives the one good descriptor and nothing else, keeps its link and its credits,
 * and once the hostile end leaves, a well-behaved replacement trains and traffic flows both ways. Run with the
 * hostile end as the card (a malicious firmware against the host) and as the host (against the card).
 */
class HostileEndTest {
    private static final int FLOOD = 100_000;

    @ParameterizedTest(name = "hostile {0}")
    @EnumSource(Role.class)
    void everyKindOfBadInputIsRefusedAndCountedAndTheRealEndWorksAfterwards(Role hostileRole) throws Exception {
        Role healthyRole = hostileRole.peer();
        Direction hostileDir = Direction.from(hostileRole);
        Direction healthyDir = Direction.from(healthyRole);
        Path dir = Files.createTempDirectory("cardnet-hostile-end");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-hostile-end");
        BusAddress hostilePort = new BusAddress.Unix(dir.resolve(hostileRole.shortName() + ".sock"));
        BusAddress healthyPort = new BusAddress.Unix(dir.resolve(healthyRole.shortName() + ".sock"));
        BusAddress hostPort = hostileRole == Role.ROOT_COMPLEX ? hostilePort : healthyPort;
        BusAddress cardPort = hostileRole == Role.ROOT_COMPLEX ? healthyPort : hostilePort;
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(hostPort, cardPort, null,
                new Liveness(Duration.ofMillis(100), 5), 0, dma), new SimpleMeterRegistry()).start();
             TestEnd healthy = new TestEnd(healthyRole, healthyPort, dma)) {
            HostileEnd.Expected e;
            LinkUp up;
            try (HostileEnd hostile = new HostileEnd(hostileRole, ((BusAddress.Unix) hostilePort).path(), dma)) {
                up = hostile.train();
                healthy.awaitUp();
                long start = System.nanoTime();
                e = hostile.attack(up, FLOOD);

                assertArrayEquals(e.delivered(), healthy.next(byte[].class), "the good descriptor crossed whole");
                awaitAtLeast(() -> counter(sim, "refused/" + hostileDir.tag() + "/doorbell/behind"), e.doorbellBehind());
                System.out.printf("hostile %s: the attack with %d doorbells sent and refused in %d ms%n", hostileRole,
                        FLOOD, (System.nanoTime() - start) / 1_000_000);
                awaitAtLeast(() -> faults(sim, hostileRole, "unknown_type"), e.unknownType());
                assertEquals(e.badSlot(), faults(sim, hostileRole, "bad_slot"));
                assertEquals(e.unknownType(), faults(sim, hostileRole, "unknown_type"));
                assertEquals(e.replayed(), counter(sim, "drop/" + hostileDir.tag() + "/replayed"));
                assertEquals(e.staleEpoch(), counter(sim, "drop/" + hostileDir.tag() + "/stale_epoch"));
                assertEquals(e.outOfWindow(), counter(sim, "drop/" + hostileDir.tag() + "/out_of_window"));
                assertEquals(e.doorbellStaleEpoch(), counter(sim, "refused/" + hostileDir.tag() + "/doorbell/stale_epoch"));
                assertEquals(e.doorbellBeyondPosted(), counter(sim, "refused/" + hostileDir.tag() + "/doorbell/beyond_posted"));
                assertEquals(e.doorbellBehind(), counter(sim, "refused/" + hostileDir.tag() + "/doorbell/behind"));
                // RX_DONEs free the other direction's ring: the healthy producer's credits
                assertEquals(e.rxDoneStaleEpoch(), counter(sim, "refused/" + healthyDir.tag() + "/rx_done/stale_epoch"));
                assertEquals(e.rxDoneBeyondDelivered(), counter(sim, "refused/" + healthyDir.tag() + "/rx_done/beyond_delivered"));
                // the slot rewritten after its DESC: refused once, by the simulator or by the healthy end
                awaitAtLeast(() -> faults(sim, hostileRole, "bad_length") - e.badLength()
                        + healthy.port.refusals(FrameFault.Kind.BAD_LENGTH), 1);
                assertEquals(1, faults(sim, hostileRole, "bad_length") - e.badLength()
                        + healthy.port.refusals(FrameFault.Kind.BAD_LENGTH), "the rewritten slot was refused once");

                assertTrue(healthy.port.isUp(), "the healthy end kept its link");
                assertEquals(up.ringDepth(), healthy.port.credits(), "the healthy end's credits: all back, none invented");
                assertFalse(healthy.events.stream().anyMatch(o -> o instanceof byte[]),
                        "nothing but the good descriptor reached the healthy end: " + healthy.events);
                assertFalse(healthy.events.stream().anyMatch(o -> o instanceof String),
                        "the healthy end never lost its link: " + healthy.events);
            }
            awaitAtLeast(() -> faults(sim, hostileRole, "truncated"), 1);
            assertEquals(1, faults(sim, hostileRole, "truncated"), "the frame cut mid-header");
            assertTrue(healthy.next(String.class).startsWith("down"));

            try (TestEnd replacement = new TestEnd(hostileRole, hostilePort, dma)) {
                replacement.awaitUp();
                healthy.next(LinkUp.class);
                healthy.awaitUp();
                byte[] there = TestPackets.tcp("after the hostile end".getBytes());
                assertTrue(replacement.send(there));
                assertArrayEquals(there, healthy.next(byte[].class));
                byte[] back = TestPackets.udp("and back".getBytes());
                assertTrue(healthy.send(back));
                assertArrayEquals(back, replacement.next(byte[].class));
            }
        } finally {
            for (Role r : Role.values()) {
                Files.deleteIfExists(dir.resolve(r.shortName() + ".sock"));
            }
            Files.deleteIfExists(dir);
            assertFalse(Files.exists(dma), "the simulator left its DMA directory behind");
        }
    }

    private static long counter(LinkSimulator sim, String key) {
        Double v = sim.status().counters().get(key);
        return v == null ? 0 : v.longValue();
    }

    private static long faults(LinkSimulator sim, Role port, String kind) {
        return counter(sim, "fault/" + port.shortName() + "/" + kind);
    }

    private static void awaitAtLeast(LongSupplier value, long want) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsLong() < want && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }
}
