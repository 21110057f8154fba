package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.Capabilities;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.tools.Sender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A running lab's processes hold only the capabilities they keep (docs/security.md): the simulator none, host-bridge
 * none (toe0 is a persistent TUN the lab made for it), card-node net_admin, net_raw and net_bind_service; in every
 * thread, not just the one /proc/PID/status reports; `lab status --json` says so, and why; and the link still does
 * what needs them after start: it retrains off the direct rings and back (each end's TUN queues detach and attach
 * again, toe0's carrier follows) and carries a checked transfer. host-bridge killed with -9 leaves toe0 behind, with
 * its address and route, for the restarted one to attach to, again with nothing; the lab's down removes it.
 */
class LeastPrivilegeIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Component, List<String>> KEPT = Map.of(
            Component.SIM, List.of(),
            Component.HOST_BRIDGE, List.of(),
            Component.CARD_NODE, List.of("net_bind_service", "net_admin", "net_raw"));
    private TestLab current;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> current);

    @Test
    void everyProcessRunsWithOnlyTheCapabilitiesItKeeps() throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            current = t;
            JsonNode status = JSON.readTree(CardnetCli.run("lab", "status", "--name", t.name, "--json").out());
            for (Component c : Component.values()) {
                long pid = t.pid(c);
                assertEquals(KEPT.get(c), Capabilities.effective(pid), c + "'s CapEff");
                for (Path task : tasks(pid)) {
                    assertEquals(KEPT.get(c), Capabilities.effectiveIn(task.resolve("status")), c + "'s thread " + task.getFileName());
                }
                List<String> shown = new ArrayList<>();
                status.path("processes").path(c.command()).path("capabilities").forEach(n -> shown.add(n.asText()));
                assertEquals(KEPT.get(c), shown, "lab status --json for " + c + ": " + status.path("processes"));
            }
            assertTrue(status.path("processes").path("host-bridge").path("why").asText().contains("persistent"),
                    status.path("processes").toString());
            String text = CardnetCli.run("lab", "status", "--name", t.name).out();
            assertTrue(text.contains("capabilities: none (its TUN is the lab's: persistent"), text);
            assertTrue(text.contains("capabilities: net_bind_service,net_admin,net_raw ("), text);
            String toe = TestLab.exec(t.hostNs(), "ip", "-d", "link", "show", "toe0").output();
            assertTrue(toe.contains("persist on") && toe.contains("user root") && toe.contains("mtu 65535"), toe);

            // Off the direct rings (coalescing needs the simulator per descriptor) and back: the ends detach and
            // attach their TUN queues again with only net_admin.
            t.link("op", "set", "coalesceFrames", 8, "coalesceMicros", 100);
            t.lab.awaitLinkUp(java.time.Duration.ofSeconds(30));
            Sender.Result slow = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 8L << 20, n -> { }));
            assertTrue(slow.match(), "through the simulator: " + slow);
            t.link("op", "set", "coalesceFrames", 1, "coalesceMicros", 0);
            t.lab.awaitLinkUp(java.time.Duration.ofSeconds(30));
            Sender.Result r = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 32L << 20, n -> { }));
            assertTrue(r.match(), "on the direct rings again: " + r);

            // host-bridge dies: toe0 stays, without carrier, with its address and route; a new one attaches to it
            long bridge = t.pid(Component.HOST_BRIDGE);
            io.cardnet.lab.runtime.Shell.check(List.of("kill", "-9", Long.toString(bridge)));
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (io.cardnet.lab.runtime.Lab.isRunning(bridge) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            String left = TestLab.exec(t.hostNs(), "ip", "link", "show", "toe0").output();
            assertTrue(left.contains("NO-CARRIER"), "toe0 after host-bridge's kill -9: " + left);
            String route = TestLab.exec(t.hostNs(), "ip", "route", "show", "198.19.0.0/24").output();
            assertTrue(route.contains("via 198.18.0.2 dev toe0"), "the wire route after the kill: " + route);
            CardnetCli.Run restart = CardnetCli.run("lab", "restart", "host-bridge", "--name", t.name);
            assertEquals(0, restart.exit(), restart.out() + restart.err());
            t.lab.refresh();
            t.lab.awaitLinkUp(java.time.Duration.ofSeconds(30));
            long restarted = t.pid(Component.HOST_BRIDGE);
            assertTrue(restarted != bridge, "host-bridge was not restarted");
            for (Path task : tasks(restarted)) {
                assertEquals(List.of(), Capabilities.effectiveIn(task.resolve("status")), "restarted host-bridge's thread "
                        + task.getFileName());
            }
            Sender.Result again = TestLab.in(t.hostNs(),
                    () -> Sender.send(new InetSocketAddress("198.18.0.2", 9), 32L << 20, n -> { }));
            assertTrue(again.match(), "after host-bridge's restart: " + again);
            current = null;
        }
    }

    private static List<Path> tasks(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return s.toList();
        }
    }
}
