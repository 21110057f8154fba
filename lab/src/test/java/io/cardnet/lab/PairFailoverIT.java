package io.cardnet.lab;

import io.cardnet.lab.drill.DrillReport;
import io.cardnet.lab.drill.FailoverReport;
import io.cardnet.lab.drill.FailoverRun;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.PairPlan;
import io.cardnet.lab.runtime.PairState;
import io.cardnet.lab.runtime.Shell;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `lab up --cards 2 --pair`: kill -9 of the active card's card-node under traffic. The monitor notices on the bus and
 * card 1 takes over with the connection tracking and NAT bindings conntrackd synced to it: a routed and a NATed TCP
 * flow keep going, every byte delivered with an equal SHA-256. Card 0, restarted, becomes the standby, and a planned
 * switch back to it keeps both flows too. Then a hitless drill 1.0.0 → 1.0.1 (patch the standby, switch to it, patch
 * the other, fail back) keeps both flows intact and the host's addresses and routes; its outage figure is printed, not asserted.
 * Down leaves no conntrackd, monitor, sync veth or namespace. One lab for both: a pair takes a minute to come up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class PairFailoverIT {
    private TestLab t;
    private final List<Long> pids = new ArrayList<>();

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        t = TestLab.up(c -> c.withCards(new LabConfig.Cards(2, null, true)));
        t.lab.state().processes().values().forEach(p -> pids.add(p.pid()));
    }

    @AfterAll
    void down() throws Exception {
        if (t == null) {
            return;
        }
        Shell.Result ps = Shell.run(List.of("pgrep", "-f", "conntrackd -C /run/cardnet/" + t.name + "/"), 10);
        assertTrue(ps.ok(), "the pair's conntrackd were not running before down: " + ps.output());
        t.lab.refresh();
        t.lab.state().processes().values().forEach(p -> pids.add(p.pid()));
        t.close();
        TestLab.assertNothingLeft(t.name, pids);
        ps = Shell.run(List.of("pgrep", "-f", "conntrackd -C /run/cardnet/" + t.name + "/"), 10);
        assertTrue(!ps.ok(), "conntrackd of the pair left running: " + ps.output());
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void killOfTheActiveUnderTrafficKeepsRoutedAndNatedFlowsThenTheDeadCardIsTheStandby() throws Exception {
        FailoverReport kill = new FailoverRun(t.lab, new FailoverRun.Options(FailoverRun.Trigger.KILL, true,
                Duration.ofSeconds(10)), line -> System.out.println("[" + t.name + "] " + line)).run();
        System.out.println(kill.text());
        assertEquals(0, kill.from());
        assertEquals(1, kill.to());
        assertFlowsIntact(kill);
        // the NATed flow really was NATed: card 1 (which committed card 0's binding) holds it with the wire identity
        var ct = TestLab.exec(t.lab.card(1).namespace(), "conntrack", "-L", "-p", "tcp", "--orig-src", PairPlan.HOST_NATED);
        assertTrue(ct.output().contains("dst=" + t.lab.card(0).addresses().cardWire().ip()),
                "card 1 has no NAT binding of " + PairPlan.HOST_NATED + ":\n" + ct.output());

        t.lab.restart(0, Component.CARD_NODE, Duration.ofSeconds(60));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (PairState.load(t.lab.runDir()).standby() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, PairState.load(t.lab.runDir()).standby(), "card 0, restarted, did not become the standby");

        FailoverReport back = new FailoverRun(t.lab, new FailoverRun.Options(FailoverRun.Trigger.SWITCH, true,
                Duration.ofSeconds(10)), line -> System.out.println("[" + t.name + "] " + line)).run();
        System.out.println(back.text());
        assertEquals(0, back.to());
        assertFlowsIntact(back);
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void hitlessDrillPatchesBothCardsWithoutLosingAByte() throws Exception {
        var report = new io.cardnet.lab.drill.HitlessDrill(t.lab, new io.cardnet.lab.drill.HitlessDrill.Options(
                io.cardnet.lab.runtime.FirmwareCatalog.resolve("1.0.1"), true, true, Duration.ofSeconds(60)),
                line -> System.out.println("[" + t.name + "] " + line)).run();
        System.out.println(report.markdown());
        assertEquals("1.0.1", report.versionAfter());
        PairState after = PairState.load(t.lab.runDir());
        assertEquals(0, after.active(), "--fail-back: card 0 is the active again");
        assertEquals(1, after.standby());
        assertTrue(report.outageMillis() >= 0, "the report has no outage figure:\n" + report.markdown());
        System.out.println("hitless drill: longest gap between 10 ms pings " + report.outageMillis() + " ms, pings lost "
                + report.pings().lost());
        assertTrue(report.hostState().kept(), report.hostState().toString());
        assertEquals(2, report.flows().size());
        for (DrillReport.FlowOutcome f : report.flows()) {
            assertTrue(f.survived() && f.sha256Equal() && f.bytesDelivered() == f.bytesSent(), f + "\n" + report.markdown());
        }
        // both cards run the new firmware's ruleset now, and only it
        for (int k = 0; k < 2; k++) {
            var nft = TestLab.exec(t.lab.card(k).namespace(), "nft", "list", "chain", "inet", "card", "forward");
            assertTrue(nft.output().contains("unsolicited wire to host"), "card " + k + ":\n" + nft.output());
        }
    }

    /**
     * A restarted host-bridge attaches to the toe0 the lab made, which kept its address: the host's wire route (through
     * whichever card is the active once the pair settles) still has the host's wire identity as its source, and the
     * wire peer answers it. (When host-bridge made toe0, a restart re-added the route without it.)
     */
    @Test
    @org.junit.jupiter.api.Order(3)
    void restartingCardZerosHostBridgeKeepsTheWireRouteWithItsSource() throws Exception {
        String subnet = t.lab.card(0).addresses().wireSubnet();
        t.lab.restart(0, Component.HOST_BRIDGE, Duration.ofSeconds(60));
        pids.add(t.lab.pid(Component.HOST_BRIDGE));
        assertEquals(List.of(), io.cardnet.lab.runtime.Capabilities.effective(t.lab.pid(Component.HOST_BRIDGE)));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (PairState.load(t.lab.runDir()).standby() < 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        PairState s = PairState.load(t.lab.runDir());
        assertTrue(s.standby() >= 0, "the pair did not settle after host-bridge's restart: " + s);
        String route = TestLab.exec(t.hostNs(), "ip", "route", "show", subnet).output();
        assertTrue(route.contains("dev toe" + s.active()) && route.contains("src " + PairPlan.HOST_ROUTED), route);
        String addr = TestLab.exec(t.hostNs(), "ip", "addr", "show", "dev", "toe0").output();
        assertTrue(addr.contains("inet " + t.lab.card(0).addresses().hostLink()), addr);
        var ping = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2",
                t.lab.card(0).addresses().peerWire().ip());
        assertTrue(ping.ok(), route + "\n" + ping.output());
    }

    private static void assertFlowsIntact(FailoverReport r) {
        assertEquals(2, r.flows().size(), r.text());
        for (DrillReport.FlowOutcome f : r.flows()) {
            assertTrue(f.survived() && f.sha256Equal() && f.bytesDelivered() == f.bytesSent(), f + "\n" + r.text());
            assertTrue(f.spannedSwap(), "the flow did not carry bytes on both sides of the failover: " + f);
        }
        assertTrue(r.pings() != null && r.pings().sent() > 0, r.text());
    }
}
