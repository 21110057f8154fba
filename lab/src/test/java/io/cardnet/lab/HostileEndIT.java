package io.cardnet.lab;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.tools.Sender;
import io.cardnet.link.hostile.HostileEnd;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Role;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A malicious card firmware against a running lab, and a malicious host driver against the card: card-node (or
 * host-bridge) is killed and a {@link HostileEnd} takes its port, trains with shared memory and sends every kind of
 * bad input (DESCs naming another slot, lengths no slot holds, lying IP lengths, replayed, stale-epoch and far-ahead descriptors, 100,000 doorbells, RX_DONEs returning
 * credits for nothing, the simulator's own frames, garbage, a slot rewritten after it was posted, a frame cut
 * mid-header). The real simulator and the other end stay up and count each kind in their /metrics; then the real
 * end comes back and toe0 carries pings and a checked TCP transfer again.
 */
class HostileEndIT {
    private static final int FLOOD = 100_000;
    private TestLab current;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> current);

    @ParameterizedTest(name = "hostile {0}")
    @EnumSource(Role.class)
    void aHostileEndIsRefusedAndCountedAndTheRealEndWorksAfterwards(Role hostileRole) throws Exception {
        Component replaced = hostileRole == Role.ENDPOINT ? Component.CARD_NODE : Component.HOST_BRIDGE;
        Component survivor = hostileRole == Role.ENDPOINT ? Component.HOST_BRIDGE : Component.CARD_NODE;
        String port = hostileRole.shortName();
        String out = Direction.from(hostileRole).tag();
        String in = Direction.from(hostileRole.peer()).tag();
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            long simPid = t.pid(Component.SIM);
            long survivorPid = t.pid(survivor);
            ProcessHandle real = ProcessHandle.of(t.pid(replaced)).orElseThrow();
            assertTrue(real.destroyForcibly(), "could not send SIGKILL to " + replaced);
            real.onExit().get();
            awaitState(t, "TRAINING");

            HostileEnd.Expected e;
            long simLengths;
            try (HostileEnd hostile = new HostileEnd(hostileRole,
                    t.lab.config().runDir().resolve(port + ".sock"), t.lab.config().dmaDir())) {
                LinkUp up = hostile.train();
                e = hostile.attack(up, FLOOD);
                awaitCounter(t, "refused/" + out + "/doorbell/behind", e.doorbellBehind());
                JsonNode c = t.lab.linkStatus().path("counters");
                assertEquals(e.badSlot(), c.path("fault/" + port + "/bad_slot").asLong(), c.toString());
                assertEquals(e.unknownType(), c.path("fault/" + port + "/unknown_type").asLong(), c.toString());
                assertEquals(e.replayed(), c.path("drop/" + out + "/replayed").asLong(), c.toString());
                assertEquals(e.staleEpoch(), c.path("drop/" + out + "/stale_epoch").asLong(), c.toString());
                assertEquals(e.outOfWindow(), c.path("drop/" + out + "/out_of_window").asLong(), c.toString());
                assertEquals(e.doorbellStaleEpoch(), c.path("refused/" + out + "/doorbell/stale_epoch").asLong(), c.toString());
                assertEquals(e.doorbellBeyondPosted(), c.path("refused/" + out + "/doorbell/beyond_posted").asLong(), c.toString());
                assertEquals(e.doorbellBehind(), c.path("refused/" + out + "/doorbell/behind").asLong(), c.toString());
                assertEquals(e.rxDoneStaleEpoch(), c.path("refused/" + in + "/rx_done/stale_epoch").asLong(), c.toString());
                assertEquals(e.rxDoneBeyondDelivered(), c.path("refused/" + in + "/rx_done/beyond_delivered").asLong(), c.toString());
                simLengths = c.path("fault/" + port + "/bad_length").asLong() - e.badLength();
                String sim = TestLab.in(t.hostNs(), () -> TestLab.httpGet("http://127.0.0.1:9470/metrics"));
                assertEquals(FLOOD, metric(sim, "cardnet_bus_notifications_refused_total", "direction=\"" + out + "\"",
                        "frame=\"doorbell\"", "reason=\"behind\""), "the flood in the simulator's /metrics");
                assertEquals("UP", t.lab.linkStatus().path("state").asText(), "the link runs with the hostile end");
            }
            awaitCounter(t, "fault/" + port + "/truncated", 1);
            assertEquals(simPid, t.pid(Component.SIM), "the simulator survived");
            assertEquals(survivorPid, t.pid(survivor), survivor + " survived");
            assertTrue(t.lab.isRunning(Component.SIM) && t.lab.isRunning(survivor));

            t.lab.restart(replaced);
            t.lab.awaitLinkUp(Duration.ofSeconds(30));
            // The first echo after the path switch back to the direct rings was once lost in CI (1 of 3, not
            // reproduced in 31 runs since, nor in 24 plain restarts): wait for the path, and say when it happens.
            var first = TestLab.exec(t.hostNs(), "ping", "-c", "1", "-W", "2", "198.18.0.2");
            if (!first.ok()) {
                System.out.println("hostile " + hostileRole + ": the first ping after the real end came back was lost;"
                        + " counters " + t.lab.linkStatus().path("counters"));
                awaitPing(t);
            }
            var ping = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2");
            assertTrue(ping.ok() && ping.output().contains("3 received"), ping.output());
            Sender.Result r = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 32L << 20, n -> { }));
            assertTrue(r.match(), "a checked transfer after the hostile end: " + r);
            assertEquals(survivorPid, t.pid(survivor), survivor + " was never restarted");
            // the slot rewritten after its DESC: refused by the simulator, or by the surviving end, which looked second
            String survivorMetrics = TestLab.in(t.hostNs(), () -> TestLab.httpGet(survivor == Component.HOST_BRIDGE
                    ? "http://127.0.0.1:9471/metrics" : "http://198.18.0.2:9472/metrics"));
            assertEquals(1, simLengths + metric(survivorMetrics, "cardnet_tun_bus_refused_total", "kind=\"bad_length\""),
                    "the rewritten slot was refused once: simulator " + simLengths);
            current = null;
        }
    }

    /** The value of the series of {@code name} whose labels include all of {@code labels}, from a /metrics page. */
    private static long metric(String page, String name, String... labels) {
        return page.lines().filter(l -> l.startsWith(name + "{"))
                .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " " + String.join(",", labels)
                        + " in /metrics"));
    }

    private static void awaitPing(TestLab t) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!TestLab.exec(t.hostNs(), "ping", "-c", "1", "-W", "1", "198.18.0.2").ok()) {
            assertTrue(System.nanoTime() < deadline, "no ping answered within 20 s of the real end's return");
        }
    }

    private static void awaitCounter(TestLab t, String key, long want) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (t.lab.linkStatus().path("counters").path(key).asLong() < want && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(want, t.lab.linkStatus().path("counters").path(key).asLong(), key);
    }

    private static void awaitState(TestLab t, String state) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!state.equals(t.lab.linkStatus().path("state").asText()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(state, t.lab.linkStatus().path("state").asText());
    }
}
