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
 * net_admin, card-node net_admin, net_raw and net_bind_service; in every thread, not just the one
 * /proc/PID/status reports; `lab status --json` says so; and the link still does what needs them after start: it
 * retrains off the direct rings and back (each end's TUN queues detach and attach again) and carries a checked
 * transfer.
 */
class LeastPrivilegeIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Component, List<String>> KEPT = Map.of(
            Component.SIM, List.of(),
            Component.HOST_BRIDGE, List.of("net_admin"),
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
            String text = CardnetCli.run("lab", "status", "--name", t.name).out();
            assertTrue(text.contains("capabilities: net_admin\n") && text.contains("capabilities: none"), text);

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
            current = null;
        }
    }

    private static List<Path> tasks(long pid) throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return s.toList();
        }
    }
}
