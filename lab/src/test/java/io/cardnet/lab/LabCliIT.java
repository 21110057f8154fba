package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The `cardnet` command as a user runs it: a separate process, its output, its exit code, Ctrl-C. */
class LabCliIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private String name;

    @BeforeEach
    void name() {
        RootRequired.check();
        name = "cli" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    }

    @AfterEach
    void noLeftovers() throws IOException {
        // whatever a test did, make sure the lab is gone, then prove it
        CardnetCli.run("lab", "down", "--name", name);
        TestLab.assertNothingLeft(name, List.of());
    }

    @Test
    void foregroundLabUpIsRemovedCompletelyByCtrlC() throws Exception {
        Process up = new ProcessBuilder(CardnetCli.command("lab", "up", "--isolated", "--name", name))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder printed = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null) {
            printed.append(line).append('\n');
            if (line.startsWith("Logs:")) {
                break;
            }
        }
        String text = printed.toString();
        assertTrue(text.contains("lab '" + name + "' is up"), text);
        assertTrue(text.contains("ping -M do -s 65000"), "tells the user what to try: " + text);
        assertTrue(text.contains("http://127.0.0.1:9470/metrics"), text);

        LabState state = LabState.load(LabConfig.RUN_ROOT.resolve(name));
        List<Long> pids = state.processes().values().stream().map(LabState.Proc::pid).toList();
        assertEquals(3, pids.size());

        Shell.check(List.of("kill", "-INT", Long.toString(up.pid())));
        assertTrue(up.waitFor(30, TimeUnit.SECONDS), "lab up did not exit after Ctrl-C");
        TestLab.assertNothingLeft(name, pids);
    }

    @Test
    void detachedLabReportsStatusAsJsonAndGoesDownWithNothingLeft() throws Exception {
        CardnetCli.Run up = CardnetCli.run("lab", "up", "--isolated", "--name", name, "--detach", "--json");
        assertEquals(0, up.exit(), up.err());
        JsonNode state = JSON.readTree(up.out());
        assertEquals(name, state.path("name").asText());
        List<Long> pids = new ArrayList<>();
        state.path("processes").forEach(p -> pids.add(p.path("pid").asLong()));
        assertEquals(3, pids.size());

        CardnetCli.Run again = CardnetCli.run("lab", "up", "--isolated", "--name", name, "--detach");
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("is already up"), again.err());

        CardnetCli.Run status = CardnetCli.run("lab", "status", "--name", name, "--json");
        assertEquals(0, status.exit(), status.err());
        JsonNode s = JSON.readTree(status.out());
        assertEquals("UP", s.path("link").path("state").asText());
        for (Component c : Component.values()) {
            assertTrue(s.path("processes").path(c.command()).path("alive").asBoolean(), c + " " + status.out());
        }
        assertEquals("netns", s.path("runtime").asText());
        assertEquals(System.getProperty("os.version"), s.path("cardKernel").asText(), "a netns card runs the host's kernel");

        // the card itself: a command in its namespace, the exit status passed on, and card-node's log as its console
        CardnetCli.Run exec = CardnetCli.run("card", "exec", "--lab", name, "--", "ip", "-o", "addr", "show", "dev", "host0");
        assertEquals(0, exec.exit(), exec.err());
        assertTrue(exec.out().contains("198.18.0.2/30"), exec.out());
        CardnetCli.Run failing = CardnetCli.run("card", "exec", "--lab", name, "--", "sh", "-c", "exit 7");
        assertEquals(7, failing.exit());
        CardnetCli.Run console = CardnetCli.run("card", "console", "--lab", name, "--no-follow");
        assertTrue(console.out().contains("card-node ready"), console.out());

        CardnetCli.Run down = CardnetCli.run("lab", "down", "--name", name, "--json");
        assertEquals(0, down.exit(), down.err());
        assertTrue(JSON.readTree(down.out()).path("down").asBoolean());
        TestLab.assertNothingLeft(name, pids);

        CardnetCli.Run gone = CardnetCli.run("lab", "status", "--name", name);
        assertNotEquals(0, gone.exit());
        assertTrue(gone.err().contains("no lab named '" + name + "' is up"), gone.err());
    }

    @Test
    void badInputIsRefusedWithAMessageThatSaysWhatToDo() throws Exception {
        CardnetCli.Run csum = CardnetCli.run("lab", "up", "--isolated", "--name", name, "--csum", "sometimes");
        assertEquals(1, csum.exit());
        assertTrue(csum.err().contains("--csum takes 'unnecessary' or 'verify'"), csum.err());

        CardnetCli.Run badName = CardnetCli.run("lab", "up", "--name", "Not_A_Name");
        assertEquals(1, badName.exit());
        assertTrue(badName.err().contains("must be 1..20 characters"), badName.err());

        CardnetCli.Run subnet = CardnetCli.run("lab", "up", "--isolated", "--name", name, "--link-subnet", "10.0.0.0/30");
        assertEquals(1, subnet.exit());
        assertTrue(subnet.err().contains("198.18.0.0/15"), subnet.err());

        CardnetCli.Run link = CardnetCli.run("lab", "up", "--isolated", "--name", name, "--link", "gen6x3");
        assertEquals(1, link.exit());
        assertTrue(link.err().contains("genGxL with G 1..5"), link.err());

        CardnetCli.Run size = CardnetCli.run("tool", "send", "--to", "198.18.0.2:9", "--size", "12X");
        assertEquals(2, size.exit());
        assertTrue(size.err().contains("'12X' is not a size"), size.err());

        CardnetCli.Run unknown = CardnetCli.run("lab", "restart", "modem", "--name", name);
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().contains("components: sim, card-node, host-bridge"), unknown.err());

        assertTrue(!Files.exists(LabConfig.RUN_ROOT.resolve(name)), "a refused command created the lab's run directory");
    }
}
