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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        String text = readUntil(out, line -> line.startsWith("Logs:"));
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

    /** `cardnet ARGS` as a script's background job or nohup starts it: with {@code signal} ignored. */
    private static ProcessBuilder withSignalIgnored(String signal, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "trap '' " + signal + "; exec \"$@\"", "cardnet"));
        cmd.addAll(CardnetCli.command(args));
        return new ProcessBuilder(cmd);
    }

    @ParameterizedTest(name = "kill -{0}")
    @ValueSource(strings = {"INT", "TERM", "HUP"})
    void aLabUpThatInheritedTheSignalIgnoredStillGoesDownOnIt(String signal) throws Exception {
        int number = Map.of("HUP", 1, "INT", 2, "TERM", 15).get(signal);
        // the harness really starts it ignored (the kernel's SigIgn mask of the same exec)
        String mask = Shell.check(List.of("bash", "-c", "trap '' " + signal + "; exec grep SigIgn /proc/self/status"));
        assertTrue((Long.parseLong(mask.replaceAll("\\s+", " ").split(" ")[1], 16) & (1L << (number - 1))) != 0, mask);

        Process up = withSignalIgnored(signal, "lab", "up", "--isolated", "--no-warm", "--name", name)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
        String text = readUntil(out, line -> line.startsWith("Logs:"));
        assertTrue(text.contains("lab '" + name + "' is up"), text);
        List<Long> pids = LabState.load(LabConfig.RUN_ROOT.resolve(name)).processes().values().stream()
                .map(LabState.Proc::pid).toList();

        Shell.check(List.of("kill", "-" + signal, Long.toString(up.pid())));
        assertTrue(up.waitFor(60, TimeUnit.SECONDS), "lab up ignored kill -" + signal);
        assertEquals(128 + number, up.exitValue(), "exit status 128 + SIG" + signal);
        TestLab.assertNothingLeft(name, pids);
    }

    @Test
    void aCaptureThatInheritedSigintIgnoredStopsOnItWithACompleteFile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        CardnetCli.Run lab = CardnetCli.run("lab", "up", "--isolated", "--no-warm", "--name", name, "--detach");
        assertEquals(0, lab.exit(), lab.err());
        Path file = dir.resolve("bus.pcapng");
        Process capture = withSignalIgnored("INT", "link", "capture", "--name", name, "-w", file.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(capture.getErrorStream(), StandardCharsets.UTF_8));
        String started = readUntil(err, line -> line.contains("Ctrl-C to stop"));
        assertTrue(started.contains("capturing the bus to " + file), started);
        Shell.check(List.of("kill", "-INT", Long.toString(capture.pid())));
        assertTrue(capture.waitFor(60, TimeUnit.SECONDS), "link capture ignored kill -INT");
        assertEquals(130, capture.exitValue());
        // the stop hook ran: the simulator's capture ended and the file is a whole pcapng that tshark reads
        Shell.Result read = Shell.run(List.of("tshark", "-r", file.toString(), "-q"), 60);
        assertTrue(read.ok(), read.output());
        // a capture takes the link off the direct rings; once the simulator's capture has ended it retrains back
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String features = "";
        while (System.nanoTime() < deadline) {
            features = JSON.readTree(CardnetCli.run("link", "show", "--name", name, "--json").out())
                    .path("status").path("features").asText();
            if (features.contains("direct-ring")) {
                break;
            }
            Thread.sleep(200);
        }
        assertTrue(features.contains("direct-ring"), "the simulator still captures (link features " + features + ")");
    }

    @Test
    void ctrlCWhileTheLabWarmsUpRemovesEverything() throws Exception {
        Process up = new ProcessBuilder(CardnetCli.command("lab", "up", "--isolated", "--name", name))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(up.getErrorStream(), StandardCharsets.UTF_8));
        String printed = readUntil(err, line -> line.contains("warming the data path"));
        assertTrue(printed.contains("warming the data path"), "no warm-up:\n" + printed);
        LabState state = LabState.load(LabConfig.RUN_ROOT.resolve(name));
        List<Long> pids = state.processes().values().stream().map(LabState.Proc::pid).toList();
        Shell.check(List.of("kill", "-INT", Long.toString(up.pid())));
        var rest = java.util.concurrent.CompletableFuture.supplyAsync(() -> err.lines().collect(java.util.stream.Collectors.joining("\n")));
        assertTrue(up.waitFor(60, TimeUnit.SECONDS), "lab up did not exit after Ctrl-C during its warm-up");
        assertTrue(rest.get(10, TimeUnit.SECONDS).contains("is down; nothing left behind"), printed);
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
        // lab up warmed the data path before returning, and says what it did; this JVM's class path has directories,
        // so its components ran without a JVM cache, and the state says why
        JsonNode warm = s.path("warmUp");
        assertTrue(List.of("warm", "deadline").contains(warm.path("outcome").asText()), warm.toString());
        assertTrue(warm.path("millis").asLong() > 0 && warm.path("packets").asLong() > 0
                && warm.path("bytes").asLong() > 0 && warm.path("roundTrips").asLong() > 0, warm.toString());
        assertEquals("off", s.path("aot").path("state").asText(), s.path("aot").toString());
        assertTrue(s.path("aot").path("detail").asText().contains("not one jar"), s.path("aot").toString());
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

    /**
     * The JVM cache as a user meets it, through the packaged jar: the first lab of a jar trains it (in a cache directory
     * of this test's own), every component starts from it without a complaint from its JVM, and the next lab reuses it
     * without training; --no-warm returns at link-up and says so. Neither speed nor duration is asserted.
     */
    @Test
    void theJvmCacheIsTrainedOnceAndEveryComponentStartsFromIt() throws Exception {
        Path cache = Files.createTempDirectory("cardnet-aot");
        Map<String, String> env = Map.of("CARDNET_AOT_CACHE", cache.toString());
        try {
            CardnetCli.Run first = CardnetCli.runJar(env, Duration.ofMinutes(10),
                    "lab", "up", "--isolated", "--name", name, "--detach", "--json");
            assertEquals(0, first.exit(), first.err());
            assertTrue(first.err().contains("building the JVM cache"), first.err());
            JsonNode state = JSON.readTree(first.out());
            JsonNode aot = state.path("aot");
            assertEquals("used", aot.path("state").asText(), aot + "\n" + first.err());
            Path dir = Path.of(aot.path("cache").asText());
            assertEquals(cache, dir.getParent(), aot.toString());
            for (Component c : Component.values()) {
                JsonNode p = state.path("processes").path(c.command());
                assertTrue(p.path("command").toString().contains("\"-XX:AOTCache=" + dir.resolve(c.command() + ".aot") + "\""),
                        c + " was not started from its cache: " + p.path("command"));
                // a JVM that cannot map or use a cache runs on without it, saying so as [error][aot] / [warning][aot]
                String log = Files.readString(Path.of(p.path("log").asText()));
                assertTrue(!log.contains("][error][aot") && !log.contains("][warning][aot"), c + "'s JVM complained:\n" + log);
            }
            JsonNode warm = state.path("warmUp");
            assertTrue(List.of("warm", "deadline").contains(warm.path("outcome").asText()), warm.toString());
            assertTrue(warm.path("millis").asLong() > 0 && warm.path("packets").asLong() > 0, warm.toString());
            CardnetCli.Run status = CardnetCli.runJar(env, Duration.ofSeconds(90), "lab", "status", "--name", name, "--json");
            assertEquals(warm, JSON.readTree(status.out()).path("warmUp"), "lab status reports the warm-up");
            assertEquals(0, CardnetCli.run("lab", "down", "--name", name).exit());

            FileTime built = Files.getLastModifiedTime(dir.resolve("sim.aot"));
            CardnetCli.Run second = CardnetCli.runJar(env, Duration.ofMinutes(3),
                    "lab", "up", "--isolated", "--name", name, "--detach", "--json", "--no-warm");
            assertEquals(0, second.exit(), second.err());
            assertTrue(!second.err().contains("building the JVM cache"), "trained again:\n" + second.err());
            JsonNode again = JSON.readTree(second.out());
            assertEquals("used", again.path("aot").path("state").asText(), again.path("aot").toString());
            assertEquals(dir.toString(), again.path("aot").path("cache").asText());
            assertEquals(built, Files.getLastModifiedTime(dir.resolve("sim.aot")), "the cache was rewritten");
            assertEquals("skipped", again.path("warmUp").path("outcome").asText(), again.path("warmUp").toString());
            assertTrue(second.err().contains("not warmed (--no-warm)"), second.err());
        } finally {
            try (var files = Files.walk(cache)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** What {@code in} printed up to and including the first line {@code last} accepts (or its end). */
    private static String readUntil(BufferedReader in, java.util.function.Predicate<String> last) throws IOException {
        StringBuilder printed = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            printed.append(line).append('\n');
            if (last.test(line)) {
                break;
            }
        }
        return printed.toString();
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
