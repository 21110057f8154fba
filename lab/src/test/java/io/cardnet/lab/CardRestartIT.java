package io.cardnet.lab;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Surprise loss of the card's firmware: kill -9 of card-node, then a restart. */
class CardRestartIT {
    private TestLab current;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> current);

    @Test
    void carrierFollowsTheCardThroughKillAndRestart() throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            long cardPid = t.pid(Component.CARD_NODE);
            long bridgePid = t.pid(Component.HOST_BRIDGE);
            assertTrue(t.lab.hostCarrier());

            ProcessHandle card = ProcessHandle.of(cardPid).orElseThrow();
            assertTrue(card.destroyForcibly(), "could not send SIGKILL to card-node");
            card.onExit().get();

            long carrierMillis = awaitCarrierLoss(t);
            assertFalse(t.lab.hostCarrier(), "toe0 still has carrier 5 s after card-node died");
            assertTrue(ProcessHandle.of(bridgePid).map(ProcessHandle::isAlive).orElse(false),
                    "host-bridge must keep running when the card dies");
            assertEquals("TRAINING", t.lab.linkStatus().path("state").asText());
            String link = Shell.check(java.util.List.of("ip", "-n", t.hostNs(), "link", "show", "toe0"));
            assertTrue(link.contains("NO-CARRIER"), link);
            Shell.Result ping = TestLab.exec(t.hostNs(), "ping", "-c", "1", "-W", "1", "198.18.0.2");
            assertFalse(ping.ok(), "the card answered ping while dead: " + ping.output());

            long restartAt = System.nanoTime();
            t.lab.restart(Component.CARD_NODE);
            t.lab.awaitLinkUp(Duration.ofSeconds(30));
            long retrainMillis = (System.nanoTime() - restartAt) / 1_000_000;
            System.out.printf("card-node killed: toe0 carrier off after %d ms; restarted: link up and carrier on after %d ms%n",
                    carrierMillis, retrainMillis);
            assertTrue(t.lab.hostCarrier());
            assertEquals(bridgePid, t.pid(Component.HOST_BRIDGE), "host-bridge was restarted but should have survived");
            assertTrue(t.lab.linkStatus().path("epoch").asLong() >= 2, "the link should have retrained");

            Shell.Result again = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2");
            assertTrue(again.ok() && again.output().contains("3 received"), again.output());
            Sender.Result r = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 64L << 20, n -> { }));
            assertTrue(r.match(), "traffic after the restart: " + r);
            current = null;
        }
    }

    @Test
    void aFrozenCardIsDeclaredGoneByItsMissedHeartbeatsAndRetrainsWhenItThaws() throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            long cardPid = t.pid(Component.CARD_NODE);
            // SIGSTOP: the process and its socket stay, it just falls silent — only heartbeats can tell.
            Shell.check(java.util.List.of("kill", "-STOP", Long.toString(cardPid)));
            try {
                long detectMillis = awaitCarrierLoss(t);
                System.out.printf("card-node frozen: declared gone after %d ms (heartbeat 100 ms × 5 misses)%n", detectMillis);
                assertFalse(t.lab.hostCarrier(), "toe0 kept its carrier while the card was silent for 5 s");
                assertTrue(detectMillis >= 400, "declared gone after " + detectMillis + " ms, before 5 heartbeats could be missed");
                assertTrue(t.lab.linkStatus().path("counters").path("transition/TRAINING").asLong() >= 2);
            } finally {
                Shell.check(java.util.List.of("kill", "-CONT", Long.toString(cardPid)));
            }
            t.lab.awaitLinkUp(Duration.ofSeconds(30));
            assertEquals(cardPid, t.pid(Component.CARD_NODE), "the same card-node process retrained");
            Shell.Result ping = TestLab.exec(t.hostNs(), "ping", "-c", "2", "-i", "0.2", "-W", "2", "198.18.0.2");
            assertTrue(ping.ok(), ping.output());
            current = null;
        }
    }

    @Test
    void bothEndsRideThroughARestartOfTheSimulator() throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            long bridgePid = t.pid(Component.HOST_BRIDGE);
            long cardPid = t.pid(Component.CARD_NODE);
            ProcessHandle sim = ProcessHandle.of(t.pid(Component.SIM)).orElseThrow();
            sim.destroyForcibly();
            sim.onExit().get();
            awaitCarrierLoss(t);
            assertFalse(t.lab.hostCarrier(), "toe0 kept its carrier with no bus");
            t.lab.restart(Component.SIM);
            t.lab.awaitLinkUp(Duration.ofSeconds(30));
            assertEquals(bridgePid, t.pid(Component.HOST_BRIDGE));
            assertEquals(cardPid, t.pid(Component.CARD_NODE));
            assertTrue(t.lab.isRunning(Component.HOST_BRIDGE) && t.lab.isRunning(Component.CARD_NODE));
            Sender.Result r = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 16L << 20, n -> { }));
            assertTrue(r.match(), r.toString());
            current = null;
        }
    }

    /** Polls toe0 for up to 5 s until it loses carrier; returns how long that took, in ms. */
    private static long awaitCarrierLoss(TestLab t) throws Exception {
        long start = System.nanoTime();
        while (t.lab.hostCarrier() && System.nanoTime() - start < Duration.ofSeconds(5).toNanos()) {
            Thread.sleep(20);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }
}
