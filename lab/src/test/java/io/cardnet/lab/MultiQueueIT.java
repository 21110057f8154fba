package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.Shell;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * toe0 and host0 with two queue pairs on real multi-queue TUNs: many flows spread over both queues and arrive
 * intact, the per-queue counters add up to the link's totals, a paced link keeps both (each end's transmitter paces
 * them on one shared wire), and a link whose descriptors cross the simulator (coalescing) runs one queue until they
 * do not any more.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiQueueIT {
    private static final int FLOWS = 24;

    private TestLab t;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        t = TestLab.up(c -> c.withQueues(2));
    }

    @AfterAll
    void down() throws Exception {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void flowsSpreadOverBothQueuesIntactAndTheQueueCountersAddUp() throws Exception {
        assertTrue(TestLab.exec(t.hostNs(), "ip", "-d", "link", "show", "toe0").output().contains("multi_queue"));
        JsonNode before = t.lab.linkStatus();
        assertEquals(2, before.path("queues").asInt(), "an unpaced link runs both queue pairs: " + before);
        sendFlowsIntact();

        JsonNode s = t.lab.linkStatus();
        long total = s.path("traffic").path("h2c").path("frames").asLong();
        long q0 = s.path("queueTraffic").path("h2c/0").path("frames").asLong();
        long q1 = s.path("queueTraffic").path("h2c/1").path("frames").asLong();
        System.out.printf("2 queue pairs, %d flows host→card: %,d + %,d descriptors = %,d (link total %,d)%n", FLOWS, q0,
                q1, q0 + q1, total);
        assertTrue(q0 > 0 && q1 > 0, FLOWS + " flows all landed on one queue: " + s.path("queueTraffic"));
        assertEquals(total, q0 + q1, "the per-queue counters add up to the link's total");
    }

    @Test
    void theSimulatorsPathRunsOneQueueAndTheDirectRingsBothAgain() throws Exception {
        try {
            t.link("op", "set", "model", "gen3x4");
            assertEquals(2, t.lab.linkStatus().path("queues").asInt(), "a paced link stays on the direct rings");
            sendFlowsIntact();
            t.link("op", "set", "coalesceFrames", 4, "coalesceMicros", 100);
            assertEquals(1, t.lab.linkStatus().path("queues").asInt(), "descriptors through the simulator: one queue");
            sendFlowsIntact();
        } finally {
            t.link("op", "set", "model", "unlimited", "coalesceFrames", 1, "coalesceMicros", 0);
        }
        assertEquals(2, t.lab.linkStatus().path("queues").asInt());
        sendFlowsIntact();
    }

    /** FLOWS concurrent host→card transfers (distinct source ports, so distinct flows), each checked end to end. */
    private void sendFlowsIntact() throws Exception {
        // the link may just have retrained: toe0's carrier comes back a moment after the simulator reports UP
        Shell.Result ping = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2");
        assertTrue(ping.ok(), ping.output());
        List<CompletableFuture<TestLab.Transfer>> flows = new ArrayList<>();
        for (int i = 0; i < FLOWS; i++) {
            flows.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return t.hostToCard(4L << 20);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<TestLab.Transfer> f : flows) {
            assertTrue(f.get(180, TimeUnit.SECONDS).intact(), "a flow arrived with other bytes");
        }
    }
}
