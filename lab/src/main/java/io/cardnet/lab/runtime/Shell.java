package io.cardnet.lab.runtime;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    public static Result run(List<String> command, long timeoutSeconds) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage()
                    + " (is " + command.getFirst() + " installed?)", e);
        }
        try {
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("`" + String.join(" ", command) + "` did not finish in " + timeoutSeconds + " s");
            }
            return new Result(command, p.exitValue(), new String(out).strip());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running `" + String.join(" ", command) + "`", e);
        }
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
