package io.cardnet.netdev.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A fresh network namespace {@code cn-test-<random>} for one test, deleted by {@link #close()}.
 * Everything a test creates must live in here, never in the machine's root namespace.
 */
public final class TestNamespace implements AutoCloseable {
    private final String name;

    private TestNamespace(String name) {
        this.name = name;
    }

    public static TestNamespace create() throws IOException, InterruptedException {
        RootRequired.check();
        String name = "cn-test-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        run("ip", "netns", "add", name).orThrow();
        return new TestNamespace(name);
    }

    public String name() {
        return name;
    }

    /** {@code ip -n <ns> args...}; throws unless it exits 0. */
    public String ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", name));
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new)).orThrow();
    }

    /** {@code ip netns exec <ns> command...}; throws unless it exits 0. */
    public String exec(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", name));
        cmd.addAll(List.of(command));
        return run(cmd.toArray(String[]::new)).orThrow();
    }

    @Override
    public void close() throws IOException {
        try {
            run("ip", "netns", "del", name).orThrow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while deleting " + name, e);
        }
    }

    /** Runs a command with a 5 s limit, capturing stdout and stderr together. */
    public static Result run(String... command) throws IOException, InterruptedException {
        // Output goes to a file so a chatty command can never block on a full pipe.
        Path out = Files.createTempFile("cn-test-cmd", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            return new Result(String.join(" ", command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    public record Result(String command, int exitCode, String output) {
        public String orThrow() throws IOException {
            if (exitCode != 0) {
                throw new IOException(command + " exited " + exitCode + ": " + output);
            }
            return output;
        }
    }
}
