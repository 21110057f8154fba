package io.cardnet.lab;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabConsoleKeys;
import io.cardnet.lab.runtime.LabRuntime;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.runtime.vm.Accelerator;
import io.cardnet.lab.runtime.vm.VmSettings;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The firmware's services on the card as a virtual machine (`lab up --runtime vm --relay on --export DIR`), on one
 * VM lab: the SSH console (card-node's, inside the guest) with the stock OpenSSH client and the host key the lab made
 * and handed the guest; the TCP relay carrying a host→wire transfer; the card's web server serving the host's export
 * to curl on the wire peer. Each boot of a card VM costs a minute or two of TCG, so everything shares one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class VmServicesIT {
    private static final String CARD = "198.18.0.2";
    private static final String PEER = "198.19.0.1";
    private static final long RELAYED = 32L << 20;
    private static final long EXPORTED = (8L << 20) + 11;

    private TestLab t;
    private LabConsoleKeys keys;
    private Path export;
    private Path scratch;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        RootRequired.check();
        for (String tool : List.of("qemu-system-x86_64", "qemu-img", "ssh", "ssh-keygen", "curl")) {
            RootRequired.requireTool(tool);
        }
        export = Files.createTempDirectory("cardnet-vm-export");
        scratch = Files.createTempDirectory("cardnet-vm-services");
        CardHttpdIT.write(export.resolve("data/exported.bin"), EXPORTED, 12);
        long start = System.nanoTime();
        t = TestLab.up(c -> c.withRuntime(LabRuntime.VM).withVm(new VmSettings(Accelerator.Request.AUTO, 2, 1024))
                .withRelay(new LabConfig.Relay(true, 8)).withExport(export));
        keys = t.lab.consoleKeys();
        System.out.printf("VM services lab up in %.1f s; the card VM booted in %.1f s (%s)%n",
                (System.nanoTime() - start) / 1e9, t.lab.state().vm().bootMillis() / 1000.0, t.lab.state().vm().accel());
    }

    @AfterAll
    void down() throws Exception {
        try {
            TestLab.deleteTree(export);
            TestLab.deleteTree(scratch);
        } finally {
            if (t != null) {
                t.close();
            }
        }
    }

    @Test
    @Order(1)
    void theConsoleLogsInWithTheLabsKeyIntoTheGuestAndRefusesPasswords() throws Exception {
        // known_hosts holds the host key the lab made (RUN_DIR/console/card/host_key.pub): strict checking passes
        // only if the guest's console serves exactly that key
        String hostKey = Files.readString(keys.cardState().resolve("host_key.pub")).split(" ")[1];
        assertTrue(Files.readString(keys.knownHosts()).contains(CARD + " ecdsa-sha2-nistp256 " + hostKey),
                Files.readString(keys.knownHosts()));

        // `cardnet card console` runs ssh with the lab's key; the shell is the guest's, on the card's own kernel
        CardnetCli.Run uname = CardnetCli.run(Duration.ofMinutes(2), "card", "console", "--lab", t.name, "--", "uname", "-r");
        assertEquals(0, uname.exit(), uname.err());
        assertNotEquals(System.getProperty("os.version"), uname.out().strip(), "the console ran on the host's kernel");
        assertEquals(t.lab.cardKernel(), uname.out().strip(), "the firmware's kernel, the VM's");

        Shell.Result where = t.ssh(List.of(), "ip", "-o", "addr;", "cat", "/proc/1/cmdline");
        assertEquals(0, where.exitCode(), where.output());
        assertTrue(where.output().contains("host0") && where.output().contains(CARD + "/30"), where.output());
        assertFalse(where.output().contains("toe0"), "the command ran on the host side:\n" + where.output());
        assertTrue(where.output().contains("cardnet-init"), "PID 1 is the guest's init:\n" + where.output());
        Shell.Result exit = t.ssh(List.of(), "exit", "7");
        assertEquals(7, exit.exitCode(), "the command's exit status comes back: " + exit.output());

        // the key reached the guest root's only, and only as the lab made it
        CardnetCli.Run mode = CardnetCli.run("card", "exec", "--lab", t.name, "--", "stat", "-c", "%a %U",
                "/run/cardnet/console/host_key", "/run/cardnet/console", "/run/cardnet/lab_authorized_keys");
        assertEquals(0, mode.exit(), mode.err());
        assertEquals(List.of("600 root", "700 root", "600 root"), mode.out().lines().toList());

        Shell.Result password = t.ssh(List.of("-o", "PreferredAuthentications=password,keyboard-interactive",
                "-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=yes",
                "-o", "KbdInteractiveAuthentication=yes"), "true");
        assertEquals(255, password.exitCode(), password.output());
        assertTrue(password.output().contains("Permission denied (publickey)"), password.output());
        assertTrue(t.cardMetric("cardnet_card_console_sessions_opened_total") >= 3, "the guest's console counted the logins");
    }

    @Test
    @Order(2)
    void aHostTransferToTheWireIsRelayedByTheGuestIntact() throws Exception {
        double connections0 = t.cardMetric("cardnet_card_relay_connections_total");
        double fromHost0 = t.cardMetric("cardnet_card_relay_bytes_total", "from=\"host\"");
        TestLab.Transfer x;
        try (Sink sink = TestLab.in(t.wireNs(), () -> Sink.listen(new InetSocketAddress(PEER, 5401)))) {
            var received = TestLab.receiveOne(sink);
            Sender.Result sent = TestLab.in(t.hostNs(), () -> Sender.send(new InetSocketAddress(PEER, 5401), RELAYED,
                    IntegrityCheck.SHA256, n -> { }));
            x = new TestLab.Transfer(sent, received.get(300, TimeUnit.SECONDS));
        }
        assertTrue(x.intact(), "SHA-256 differs: sent " + x.sent() + ", received " + x.received());
        assertEquals(RELAYED, x.received().bytes());
        assertTrue(t.cardMetric("cardnet_card_relay_connections_total") >= connections0 + 1,
                "the guest's relay did not count the connection");
        assertTrue(t.cardMetric("cardnet_card_relay_bytes_total", "from=\"host\"") >= fromHost0 + RELAYED,
                "the guest's relay did not count the host's bytes");
        System.out.printf("VM card relay: %d MiB host→wire at %.3f Gb/s, SHA-256 equal%n", RELAYED >> 20, x.sent().gbps());
    }

    @Test
    @Order(3)
    void curlOnTheWireFetchesTheHostsExportFromTheGuestsWebServer() throws Exception {
        String want = CardHttpdIT.sha256(export.resolve("data/exported.bin"));
        for (String pass : List.of("cold", "warm")) {
            Path out = scratch.resolve("fetched." + pass);
            Shell.Result r = TestLab.exec(t.wireNs(), "curl", "-sS", "--max-time", "120", "-w", "\nstatus=%{http_code}\n",
                    "-o", out.toString(), "http://198.19.0.2/data/exported.bin");
            assertTrue(r.ok() && r.output().contains("status=200"), pass + ": " + r.output());
            assertEquals(EXPORTED, Files.size(out), pass + " size");
            assertEquals(want, CardHttpdIT.sha256(out), pass + " SHA-256");
        }
        assertTrue(t.cardMetric("cardnet_card_httpd_bytes_fetched_bytes_total") >= EXPORTED, "the guest fetched from the export");
        assertTrue(t.cardMetric("cardnet_card_httpd_bytes_served_bytes_total") >= 2 * EXPORTED, "the guest served both");
        assertTrue(t.cardMetric("cardnet_card_httpd_cache_total", "result=\"hit\"") >= 1, "the warm pass came from its cache");
    }

}
