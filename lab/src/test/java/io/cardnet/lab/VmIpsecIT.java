package io.cardnet.lab;

import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.LabRuntime;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.vm.Accelerator;
import io.cardnet.lab.runtime.vm.VmSettings;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firmware 1.2.0's ESP tunnel on the card as a virtual machine: the lab's fresh keys reach the guest as a fw_cfg
 * file (root's only there), the wire peer's end runs in the wire's namespace as for a netns card, and tshark on the
 * wire's eth0 sees the host's transfer to the wire peer only as ESP, its bytes arriving with equal SHA-256.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VmIpsecIT {
    /** 4 MiB: ~2,900 ESP frames, plenty to show nothing leaves in the clear; under TCG the tunnel moves ~0.002 Gb/s. */
    private static final long SIZE = 4L << 20;

    private TestLab t;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        RootRequired.check();
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "tshark")) {
            RootRequired.requireTool(tool);
        }
        java.nio.file.Path firmware = FirmwareCatalog.resolve("1.2.0");
        t = TestLab.up(c -> c.withRuntime(LabRuntime.VM).withVm(new VmSettings(Accelerator.Request.AUTO, 2, 1024))
                .withFirmware(firmware));
    }

    @AfterAll
    void down() throws Exception {
        if (t != null) {
            LabState.Proc peer = t.lab.state().processes().get("esp-peer");
            t.close();
            assertFalse(peer != null && io.cardnet.lab.runtime.Lab.isRunning(peer.pid()), "the wire peer's ESP end outlived the lab");
        }
    }

    @Test
    void theHostsTransferLeavesTheGuestOnlyAsEspAndArrivesIntact() throws Exception {
        assertTrue(t.lab.cardKernel().startsWith("6.12."), "1.2.0 boots the 6.12 kernel: " + t.lab.cardKernel());
        LabState.Proc peer = t.lab.state().processes().get("esp-peer");
        assertTrue(peer != null && io.cardnet.lab.runtime.Lab.isRunning(peer.pid()), "the wire peer's ESP end runs: " + peer);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                t.lab.runDir().resolve("ipsec.keys"))), "the keys are the lab's only");
        CardnetCli.Run guest = CardnetCli.run("card", "exec", "--lab", t.name, "--", "sh", "-c",
                "stat -c '%a %U' /run/cardnet/ipsec.keys; ip -o link show esp0");
        assertEquals(0, guest.exit(), guest.err());
        assertTrue(guest.out().startsWith("600 root\n") && guest.out().contains("esp0"),
                "the guest holds this boot's keys, root's only, and its esp0: " + guest.out());

        IpsecIT.Measured m = IpsecIT.captureTransfer(t, 5501, SIZE);
        assertTrue(m.transfer().intact(), "bytes or SHA-256 differ: " + m.transfer().received());
        assertEquals(0, m.capture().plainTcp(), "plaintext TCP on the wire: " + m.capture());
        assertEquals(0, m.capture().hostAddressed(), "the host's address in the clear on the wire: " + m.capture());
        assertTrue(m.capture().esp() >= SIZE / 1432, "too few ESP packets for " + SIZE + " bytes: " + m.capture());
        double sealed = t.cardMetric("cardnet_card_ipsec_packets_total", "direction=\"out\"");
        assertTrue(sealed >= SIZE / 1432, "the guest's card-node sealed " + sealed + " packets");
        assertEquals(0, t.cardMetric("cardnet_card_ipsec_refused_total", "reason=\"authentication\""));
        System.out.printf("VM card, IPsec (1.2.0, kernel %s): %s; %s%n", t.lab.cardKernel(), m.describe(), m.capture());
    }
}
