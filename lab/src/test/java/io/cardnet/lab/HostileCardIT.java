package io.cardnet.lab;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.tools.Sender;
import io.cardnet.link.hostile.HostileEnd;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Role;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A malicious card firmware against a running lab: card-node is killed and a {@link HostileEnd} takes the card's
 * port, trains with shared memory and sends every kind of bad input (DESCs naming another slot, lengths no slot
 * holds, lying IP lengths, replayed, stale-epoch and far-ahead descriptors, 100,000 doorbells, RX_DONEs returning
 * credits for nothing, the simulator's own frames, garbage, a slot rewritten after it was posted, a frame cut
 * mid-header). The real simulator and host-bridge stay up and count each kind in their /metrics; then the real
 * card-node comes back and toe0 carries pings and a checked TCP transfer again.
 */
class HostileCardIT {
    private static final int FLOOD = 100_000;
    private TestLab current;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> current);

    @Test
    void aHostileCardIsRefusedAndCountedAndTheRealCardWorksAfterwards() throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            long simPid = t.pid(Component.SIM);
            long bridgePid = t.pid(Component.HOST_BRIDGE);
            ProcessHandle card = ProcessHandle.of(t.pid(Component.CARD_NODE)).orElseThrow();
            assertTrue(card.destroyForcibly(), "could not send SIGKILL to card-node");
            card.onExit().get();
            awaitState(t, "TRAINING");

            HostileEnd.Expected e;
            try (HostileEnd hostile = new HostileEnd(Role.ENDPOINT, t.lab.config().runDir().resolve("card.sock"),
                    t.lab.config().dmaDir())) {
                LinkUp up = hostile.train();
                e = hostile.attack(up, FLOOD);
                awaitCounter(t, "refused/c2h/doorbell/behind", e.doorbellBehind());
                JsonNode c = t.lab.linkStatus().path("counters");
                assertEquals(e.badSlot(), c.path("fault/card/bad_slot").asLong(), c.toString());
                assertEquals(e.unknownType(), c.path("fault/card/unknown_type").asLong(), c.toString());
                assertEquals(e.replayed(), c.path("drop/c2h/replayed").asLong(), c.toString());
                assertEquals(e.staleEpoch(), c.path("drop/c2h/stale_epoch").asLong(), c.toString());
                assertEquals(e.outOfWindow(), c.path("drop/c2h/out_of_window").asLong(), c.toString());
                assertEquals(e.doorbellStaleEpoch(), c.path("refused/c2h/doorbell/stale_epoch").asLong(), c.toString());
                assertEquals(e.doorbellBeyondPosted(), c.path("refused/c2h/doorbell/beyond_posted").asLong(), c.toString());
                assertEquals(e.doorbellBehind(), c.path("refused/c2h/doorbell/behind").asLong(), c.toString());
                assertEquals(e.rxDoneStaleEpoch(), c.path("refused/h2c/rx_done/stale_epoch").asLong(), c.toString());
                assertEquals(e.rxDoneBeyondDelivered(), c.path("refused/h2c/rx_done/beyond_delivered").asLong(), c.toString());
                // the slot rewritten after its DESC: refused by the simulator, or by host-bridge, which looked second
                long simLengths = c.path("fault/card/bad_length").asLong() - e.badLength();
                assertEquals(1, simLengths + bridgeRefused(t, "bad_length"),
                        "the rewritten slot was refused once: simulator " + simLengths);
                String sim = TestLab.in(t.hostNs(), () -> TestLab.httpGet("http://127.0.0.1:9470/metrics"));
                assertEquals(FLOOD, metric(sim, "cardnet_bus_notifications_refused_total", "direction=\"c2h\"",
                        "frame=\"doorbell\"", "reason=\"behind\""), "the flood in the simulator's /metrics");
                assertEquals("UP", t.lab.linkStatus().path("state").asText(), "the link runs with the hostile card");
            }
            awaitCounter(t, "fault/card/truncated", 1);
            assertEquals(simPid, t.pid(Component.SIM), "the simulator survived");
            assertEquals(bridgePid, t.pid(Component.HOST_BRIDGE), "host-bridge survived");
            assertTrue(t.lab.isRunning(Component.SIM) && t.lab.isRunning(Component.HOST_BRIDGE));

            t.lab.restart(Component.CARD_NODE);
            t.lab.awaitLinkUp(Duration.ofSeconds(30));
            var ping = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2");
            assertTrue(ping.ok() && ping.output().contains("3 received"), ping.output());
            Sender.Result r = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 32L << 20, n -> { }));
            assertTrue(r.match(), "a checked transfer after the hostile card: " + r);
            assertEquals(bridgePid, t.pid(Component.HOST_BRIDGE), "host-bridge was never restarted");
            current = null;
        }
    }

    /** host-bridge's own count of what it refused from the bus, of one kind, from its /metrics. */
    private static long bridgeRefused(TestLab t, String kind) throws Exception {
        String page = TestLab.in(t.hostNs(), () -> TestLab.httpGet("http://127.0.0.1:9471/metrics"));
        return metric(page, "cardnet_tun_bus_refused_total", "kind=\"" + kind + "\"");
    }

    /** The value of the series of {@code name} whose labels include all of {@code labels}, from a /metrics page. */
    private static long metric(String page, String name, String... labels) {
        return page.lines().filter(l -> l.startsWith(name + "{"))
                .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " " + String.join(",", labels)
                        + " in /metrics"));
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
