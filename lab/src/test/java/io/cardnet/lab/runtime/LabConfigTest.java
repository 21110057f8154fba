package io.cardnet.lab.runtime;

import io.cardnet.lab.runtime.vm.Accelerator;
import io.cardnet.lab.runtime.vm.VmSettings;
import io.cardnet.link.protocol.Liveness;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabConfigTest {
    @Test
    void aVmCardGetsTheVmsHeartbeatAllowanceAndLinkDeadlineUnlessSetOtherwise() {
        LabConfig netns = LabConfig.defaults("t");
        assertEquals(LabRuntime.NETNS, netns.runtime());
        LabConfig vm = netns.withRuntime(LabRuntime.VM);
        assertEquals(LabConfig.VM_LIVENESS, vm.liveness());
        assertEquals(LabConfig.VM_HEALTH_TIMEOUT, vm.healthTimeout());
        Liveness mine = new Liveness(Duration.ofMillis(50), 9);
        LabConfig custom = netns.withLiveness(mine).withHealthTimeout(Duration.ofMinutes(9)).withRuntime(LabRuntime.VM);
        assertEquals(mine, custom.liveness(), "an explicit heartbeat contract is kept");
        assertEquals(Duration.ofMinutes(9), custom.healthTimeout());
    }

    @Test
    void runtimesAndMachineSettingsAreCheckedWithAHelpfulMessage() {
        assertEquals(LabRuntime.VM, LabRuntime.parse("vm"));
        IllegalArgumentException compose = assertThrows(IllegalArgumentException.class, () -> LabRuntime.parse("compose"));
        assertTrue(compose.getMessage().contains("docker compose up"), compose.getMessage());
        assertEquals(Accelerator.Request.TCG, Accelerator.Request.parse("TCG"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Accelerator.Request.parse("hvf"))
                .getMessage().contains("auto, kvm or tcg"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new VmSettings(Accelerator.Request.AUTO, 0, 1024)).getMessage().contains("--vm-cpus"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new VmSettings(Accelerator.Request.AUTO, 2, 64)).getMessage().contains("--vm-memory"));
    }

    @Test
    void busyPollIsOffByDefaultAndBoundedWithAHelpfulMessage() {
        LabConfig d = LabConfig.defaults("lab");
        assertEquals(Duration.ZERO, d.busyPoll(), "adaptive polling is opt-in");
        assertEquals(Duration.ofMillis(1), d.withBusyPoll(Duration.ofMillis(1)).busyPoll());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withBusyPoll(Duration.ofMillis(2)))
                .getMessage().contains("--busy-poll must be 0..1000 µs"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withBusyPoll(Duration.ofNanos(-1000)))
                .getMessage().contains("--busy-poll"));
    }

    @Test
    void severalCardsAreCheckedAndEachCardHasItsOwnPlace() {
        LabConfig one = LabConfig.defaults("t");
        assertEquals(1, one.allCards().size());
        LabCard c0 = one.card(0);
        assertEquals(one.runDir(), c0.runDir(), "card 0 keeps the lab's files");
        assertEquals(one.dmaDir(), c0.dmaDir());
        assertEquals("cardnet-t-card", c0.namespace());
        assertEquals("card-node", c0.processKey(Component.CARD_NODE));
        assertEquals(one.metricsPorts(), c0.metrics());
        var missing = assertThrows(IllegalArgumentException.class, () -> one.card(1));
        assertTrue(missing.getMessage().contains("has 1 card"), missing.getMessage());

        LabConfig two = one.withCards(new LabConfig.Cards(2, "gen2x1"));
        LabCard c1 = two.card(1);
        assertEquals("cardnet-t-card1", c1.namespace());
        assertEquals("toe1", c1.hostDevice());
        assertEquals("eth1", c1.wirePort());
        assertEquals(two.runDir().resolve("card1"), c1.runDir());
        assertEquals("card-node.1", c1.processKey(Component.CARD_NODE));
        assertEquals(new LabConfig.MetricsPorts(9480, 9481, 9472), c1.metrics());
        var range = assertThrows(IllegalArgumentException.class, () -> two.card(2));
        assertTrue(range.getMessage().contains("--card 0..1"), range.getMessage());

        for (int bad : new int[]{0, LabConfig.Cards.MAX + 1}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new LabConfig.Cards(bad, null));
            assertTrue(e.getMessage().contains("--cards must be 1.." + LabConfig.Cards.MAX), e.getMessage());
        }
        var unpaced = assertThrows(IllegalArgumentException.class, () -> new LabConfig.Cards(2, "unlimited"));
        assertTrue(unpaced.getMessage().contains("paced model"), unpaced.getMessage());
        var vm = assertThrows(IllegalArgumentException.class, () -> two.withRuntime(LabRuntime.VM));
        assertTrue(vm.getMessage().contains("vm runtime runs one card for now"), vm.getMessage());
    }

    @Test
    void aPairIsTwoNetnsCardsWithOneWireIdentityEachOnItsOwnLink() {
        LabConfig pair = LabConfig.defaults("t").withCards(new LabConfig.Cards(2, null, true));
        LabCard c0 = pair.card(0);
        LabCard c1 = pair.card(1);
        assertEquals(c0.addresses().cardWire(), c1.addresses().cardWire(), "the standby holds the active's wire identity");
        assertEquals(c0.addresses().peerWire(), c1.addresses().peerWire());
        assertEquals("198.18.0.6", c1.cardAddress(), "each card keeps its own link");
        var three = assertThrows(IllegalArgumentException.class, () -> new LabConfig.Cards(3, null, true));
        assertTrue(three.getMessage().contains("give --cards 2"), three.getMessage());
        var vm = assertThrows(IllegalArgumentException.class, () -> pair.withRuntime(LabRuntime.VM));
        assertTrue(vm.getMessage().contains("--pair runs on the netns runtime only"), vm.getMessage());
    }
}
