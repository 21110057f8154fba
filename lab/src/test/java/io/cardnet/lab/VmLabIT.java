package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.LabRuntime;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.runtime.vm.Accelerator;
import io.cardnet.lab.runtime.vm.VmSettings;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The card as a virtual machine (`lab up --runtime vm`), with TCG on these machines: its own kernel, the bus as PCI
 * devices, the data path through the ivshmem DMA windows, a drill that patches the card's kernel (6.1 → 6.12) under
 * traffic, a drill whose kernel never trains the link (rolled back by the watchdog), a card crash (kill -9 of QEMU),
 * and what a broken VM setup says. One VM lab serves the ordered tests (each boot costs ~30 s of TCG); it and
 * everything it made is gone after the class, which {@link TestLab#close()} checks.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VmLabIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FIXTURES = Path.of("src", "test", "resources", "firmware");
    private static final Duration DRILL = Duration.ofMinutes(6);
    private static TestLab t;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    static void up() throws Exception {
        RootRequired.check();
        RootRequired.requireTool("qemu-system-x86_64");
        RootRequired.requireTool("qemu-img");
        RootRequired.requireTool("ssh");
        long start = System.nanoTime();
        t = TestLab.up(c -> c.withRuntime(LabRuntime.VM).withVm(new VmSettings(Accelerator.Request.AUTO, 2, 1024)));
        System.out.printf("VM lab up in %.1f s (image build included when not cached); the card VM booted in %.1f s"
                        + " (QEMU start → link trained), accelerator %s: %s%n", (System.nanoTime() - start) / 1e9,
                t.lab.state().vm().bootMillis() / 1000.0, t.lab.state().vm().accel(), t.lab.state().vm().accelReason());
    }

    @AfterAll
    static void down() throws IOException {
        if (t != null) {
            String name = t.name;
            t.close();
            assertTrue(qemuOf(name).isEmpty(), "a QEMU of lab " + name + " still runs: " + qemuOf(name));
        }
    }

    @Test
    @Order(1)
    void theVmCardCarriesPingsA64kPacketAndBulkDataIntact() throws Exception {
        assertTrue(List.of("tcg", "kvm").contains(t.lab.state().vm().accel()), t.lab.state().vm().toString());
        assertTrue(t.lab.state().vm().bootMillis() > 0);
        assertTrue(TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "5", "198.18.0.2").ok(), "ping the card");
        assertTrue(TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "5", "198.19.0.1").ok(),
                "ping the wire peer through the card VM");
        Shell.Result big = TestLab.exec(t.hostNs(), "ping", "-M", "do", "-s", "65000", "-c", "2", "-W", "5", "198.18.0.2");
        assertTrue(big.ok(), "a 64K packet each way, unfragmented: " + big.output());
        long before = t.counter("interrupt/h2c/receive");
        TestLab.Transfer x = t.hostToCard(256L << 20);
        assertTrue(x.intact(), "256 MiB host→card: " + x.sent() + " vs " + x.received());
        System.out.printf("VM card: 256 MiB host→card in %.1f s = %.3f Gb/s, SHA-256 equal%n",
                x.sent().seconds(), x.sent().gbps());
        JsonNode link = t.lab.linkStatus();
        assertEquals("UP", link.path("state").asText());
        assertTrue(link.path("features").asText().contains("shared-memory"), "packets cross in the ivshmem windows: " + link);
        assertTrue(t.counter("interrupt/h2c/receive") > before, "the bus delivered it");
        long qemu = t.pid(Component.CARD_NODE);
        assertEquals(List.of(), io.cardnet.lab.runtime.Capabilities.effective(qemu),
                "QEMU (pid " + qemu + ") runs with no capability");
        for (Path thread : Files.list(Path.of("/proc", Long.toString(qemu), "task")).toList()) {
            assertEquals(List.of(), io.cardnet.lab.runtime.Capabilities.effectiveIn(thread.resolve("status")),
                    "QEMU's thread " + thread.getFileName());
        }
    }

    @Test
    @Order(2)
    void theCardRunsItsOwnKernelAndSeesTheBusAsPciDevices() throws Exception {
        CardnetCli.Run uname = CardnetCli.run("card", "exec", "--lab", t.name, "--", "uname", "-r");
        assertEquals(0, uname.exit(), uname.err());
        String kernel = uname.out().strip();
        assertNotEquals(System.getProperty("os.version"), kernel, "the VM card must not run the host's kernel");
        assertEquals(t.lab.cardKernel(), kernel, "the firmware's kernel (its image's)");
        assertTrue(kernel.startsWith("6.1."), "1.0.0 names kernel 6.1: " + kernel);
        CardnetCli.Run lspci = CardnetCli.run("card", "exec", "--lab", t.name, "--", "lspci", "-nn");
        assertEquals(0, lspci.exit(), lspci.err());
        String pci = lspci.out();
        assertEquals(2, pci.lines().filter(l -> l.contains("[1af4:1110]")).count(), "two ivshmem DMA windows:\n" + pci);
        assertTrue(pci.contains("[1af4:1003]") || pci.contains("[1af4:1043]"), "the virtio-serial bus port:\n" + pci);
        assertTrue(pci.contains("[1af4:1000]") || pci.contains("[1af4:1041]"), "the virtio-net wire port:\n" + pci);
        CardnetCli.Run fail = CardnetCli.run("card", "exec", "--lab", t.name, "--json", "--", "sh", "-c", "echo o; echo e >&2; exit 3");
        JsonNode r = JSON.readTree(fail.out());
        assertEquals(3, fail.exit());
        assertEquals(3, r.path("exitCode").asInt());
        assertEquals("o\n", r.path("stdout").asText());
        assertEquals("e\n", r.path("stderr").asText());
        CardnetCli.Run console = CardnetCli.run("card", "console", "--lab", t.name, "--no-follow");
        assertTrue(console.out().contains("cardnet-init:") && console.out().contains("card-node ready"),
                "the serial console holds the boot: " + console.out().lines().limit(5).toList());
    }

    @Test
    @Order(3)
    void aDrillPatchesTheCardsKernelUnderTraffic(@TempDir Path out) throws Exception {
        CardnetCli.Run run = CardnetCli.run(DRILL, "drill", "--to", "1.1.0", "--lab", t.name, "--traffic",
                "--out", out.toString(), "--json");
        System.out.println(run.err());
        assertEquals(0, run.exit(), run.err());
        JsonNode r = JSON.readTree(run.out());
        assertEquals("committed", r.path("result").asText());
        assertTrue(r.path("kernelBefore").asText().startsWith("6.1."), r.path("kernelBefore").asText());
        assertTrue(r.path("kernelAfter").asText().startsWith("6.12."), r.path("kernelAfter").asText());
        JsonNode routed = r.path("flows").path(0);
        assertTrue(routed.path("survived").asBoolean() && routed.path("sha256Equal").asBoolean(), routed.toString());
        assertEquals(routed.path("bytesSent").asLong(), routed.path("bytesDelivered").asLong(), routed.toString());
        long before = routed.path("bytesSentBeforeSwap").asLong();
        assertTrue(before > 0 && routed.path("bytesSent").asLong() > before,
                "the routed flow must carry bytes on both sides of the swap: " + routed);
        long outage = r.path("outageMillis").asLong();
        assertTrue(outage > 0 && outage < r.path("watchdogMillis").asLong(), "outage " + outage);
        assertTrue(r.path("hostState").path("kept").asBoolean(), r.path("hostState").toString());
        CardnetCli.Run uname = CardnetCli.run("card", "exec", "--lab", t.name, "--", "uname", "-r");
        assertTrue(uname.out().strip().startsWith("6.12."), "after the drill the card runs 6.12: " + uname.out());
        System.out.println("VM drill 1.0.0 (" + r.path("kernelBefore").asText() + ") → 1.1.0 (" + r.path("kernelAfter").asText()
                + "): outage " + outage + " ms, pings " + r.path("pings") + ", routed flow " + routed.path("bytesDelivered")
                + " bytes equal");
    }

    @Test
    @Order(4)
    void aKernelThatNeverTrainsTheLinkIsRolledBackWithinTheWatchdog(@TempDir Path out) throws Exception {
        t.lab.refresh(); // the last drill ran in another process
        String kernelBefore = t.lab.cardKernel();
        CardnetCli.Run run = CardnetCli.run(DRILL, "drill", "--to", FIXTURES.resolve("1.1.1-nobus").toString(), "--lab",
                t.name, "--traffic", "--watchdog", "20s", "--out", out.toString(), "--json");
        System.out.println(run.err());
        assertEquals(4, run.exit(), "exit 4 means rolled back: " + run.err());
        JsonNode r = JSON.readTree(run.out());
        assertEquals("rolled back", r.path("result").asText());
        assertEquals("1.1.0", r.path("versionAfter").asText());
        long fired = -1;
        for (JsonNode e : r.path("timeline")) {
            if (e.path("what").asText().startsWith("watchdog")) {
                fired = e.path("atMillis").asLong();
            }
            assertTrue(!e.path("what").asText().startsWith("link up: the new card"), "the broken kernel trained: " + e);
        }
        assertTrue(fired >= 20_000 && fired < 30_000, "the watchdog fired at " + fired + " ms, not when due (20 s)");
        assertTrue(r.path("timeline").toString().contains("old firmware healthy again"), r.path("timeline").toString());
        assertEquals(kernelBefore, r.path("kernelAfter").asText(), "back on the old slot's kernel");
        assertTrue(t.hostToCard(8L << 20).intact(), "traffic flows again on the old firmware");
    }

    @Test
    @Order(5)
    void killingQemuIsACardCrashAndRestartBootsItAgain() throws Exception {
        t.lab.refresh(); // the drills replaced the card's QEMU from another process
        long qemu = t.pid(Component.CARD_NODE);
        assertTrue(t.lab.isRunning(Component.CARD_NODE), "the card VM runs before the crash");
        assertTrue(Shell.run(List.of("kill", "-9", Long.toString(qemu)), 10).ok());
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (t.lab.hostCarrier() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(!t.lab.hostCarrier(), "toe0 keeps its carrier after the card VM died");
        CardnetCli.Run restart = CardnetCli.run(Duration.ofMinutes(5), "lab", "restart", "card-node", "--name", t.name);
        assertEquals(0, restart.exit(), restart.err());
        t.lab.refresh();
        assertNotEquals(qemu, t.pid(Component.CARD_NODE));
        assertTrue(t.lab.hostCarrier());
        assertTrue(TestLab.exec(t.hostNs(), "ping", "-c", "2", "-W", "5", "198.18.0.2").ok(), "the card answers again");
        // The console's host key is the lab's, handed to every boot: after two drills (another slot, another kernel) and
        // this crash, stock OpenSSH with the known_hosts written at `lab up` still logs in under strict checking.
        String knownHosts = Files.readString(t.lab.consoleKeys().knownHosts());
        Shell.Result r = t.ssh(List.of(), "cat", "/proc/uptime");
        long sshDeadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (r.exitCode() != 0 && !r.output().contains("IDENTIFICATION HAS CHANGED") && System.nanoTime() < sshDeadline) {
            Thread.sleep(500); // the console listens a little after the link trains
            r = t.ssh(List.of(), "cat", "/proc/uptime");
        }
        assertEquals(0, r.exitCode(), "the new boot's console: " + r.output());
        assertEquals(knownHosts, Files.readString(t.lab.consoleKeys().knownHosts()), "known_hosts was rewritten");
    }

    @Test
    @Order(6)
    void aBrokenVmSetupSaysWhatIsMissingAndLeavesNothing(@TempDir Path tmp) throws Exception {
        // a kernel package that does not exist
        Path fw = tmp.resolve("1.0.0");
        Files.createDirectories(fw);
        Path shipped = Path.of("..", "images", "card-firmware", "1.0.0");
        try (var files = Files.list(shipped)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                Files.copy(p, fw.resolve(p.getFileName()));
            }
        }
        Path yaml = fw.resolve("firmware.yaml");
        Files.writeString(yaml, Files.readString(yaml).replace("kernel: 6.1", "kernel: 6.1.0-999-amd64"));
        expectRefused(Map.of(), fw.toString(), "linux-image-6.1.0-999-amd64", "--timeout", "60s");
        // no QEMU
        expectRefused(Map.of("CARDNET_QEMU", "/nonexistent/qemu-system-x86_64"), "1.0.0",
                "needs /nonexistent/qemu-system-x86_64", "--timeout", "60s");
        // a card that never trains the link within the lab's deadline
        expectRefused(Map.of(), FIXTURES.resolve("1.1.1-nobus").toString(), "did not come up within 10 s", "--timeout", "10s");
    }

    private static void expectRefused(Map<String, String> env, String firmware, String mustSay, String... more) throws Exception {
        String name = "vb" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        List<String> args = new ArrayList<>(List.of("lab", "up", "--runtime", "vm", "--isolated", "--name", name,
                "--firmware", firmware, "--detach", "--metrics-ports", "9480,9481,9482"));
        args.addAll(List.of(more));
        CardnetCli.Run run = CardnetCli.run(env, Duration.ofMinutes(4), args.toArray(String[]::new));
        assertEquals(1, run.exit(), "lab up must fail: " + run.err());
        assertTrue(run.err().contains(mustSay), "expected '" + mustSay + "' in: " + run.err());
        TestLab.assertNothingLeft(name, List.of());
        assertTrue(qemuOf(name).isEmpty(), "a QEMU was left behind: " + qemuOf(name));
    }

    /** QEMU processes of lab {@code name} (by their -name). */
    private static String qemuOf(String name) throws IOException {
        Shell.Result r = Shell.run(List.of("pgrep", "-a", "-f", "cardnet-" + name + "-card"), 10);
        return r.output().lines().filter(l -> l.contains("qemu") && !l.contains("<defunct>")).reduce("", (a, b) -> a + b + "\n");
    }
}
