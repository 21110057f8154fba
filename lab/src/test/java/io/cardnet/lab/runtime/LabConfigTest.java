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
}
