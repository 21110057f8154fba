package io.cardnet.lab.runtime;

import io.cardnet.netdev.Subprocess;

import java.io.IOException;
import java.util.List;

/** Runs short system commands (ip, ping) and turns a failure into a message that quotes the command and its output. */
public final class Shell {
    private Shell() {
    }

    /** The result of a finished command. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code command} ({@link Subprocess}: streams drained, a real deadline); a timeout is an IOException. */
    public static Result run(List<String> command, long timeoutSeconds) throws IOException {
        Subprocess.Result r = Subprocess.run(command, java.time.Duration.ofSeconds(timeoutSeconds));
        if (r.timedOut()) {
            throw new IOException(r.describe());
        }
        return new Result(command, r.exitCode(), r.output());
    }

    /** Runs the command and fails with its output if it exits non-zero. */
    public static String check(List<String> command) throws IOException {
        Result r = run(command, 30);
        if (!r.ok()) {
            throw new IOException("`" + String.join(" ", command) + "` failed (exit " + r.exitCode() + "): " + r.output());
        }
        return r.output();
    }

    public static String ip(String... args) throws IOException {
        return check(prepend("ip", args));
    }

    /** {@code ip -n NS ...}, or plain {@code ip ...} when ns is null (the caller's namespace). */
    public static String ipIn(String ns, String... args) throws IOException {
        return ns == null ? ip(args) : check(prepend(List.of("ip", "-n", ns), args));
    }

    /** The command wrapped to run inside {@code ns} (unchanged when ns is null). */
    public static List<String> inNamespace(String ns, List<String> command) {
        if (ns == null) {
            return command;
        }
        List<String> full = new java.util.ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(command);
        return full;
    }

    private static List<String> prepend(String first, String... rest) {
        return prepend(List.of(first), rest);
    }

    private static List<String> prepend(List<String> first, String... rest) {
        List<String> all = new java.util.ArrayList<>(first);
        all.addAll(List.of(rest));
        return all;
    }
}
