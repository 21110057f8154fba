package io.cardnet.netdev;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The one way cardnet runs a short system command (ip, nft, docker, ...): stdin closed, stdout and stderr drained
 * on threads of their own while it runs, and a real deadline. Reading a child's output to its end before waiting
 * would make the deadline useless whenever the child (or a grandchild it left behind) keeps the pipe open; here
 * the deadline fires regardless, and the command with its whole process tree is killed.
 *
 * <p>Why not Commons Exec or zt-exec (both resolve here): their watchdogs signal only the direct child, so a
 * grandchild holding the pipe (`ip netns exec` of a shell, `docker compose`'s plugins) keeps the readers waiting;
 * killing {@link ProcessHandle#descendants()} needs the process handle anyway, and the rest is this one class.
 */
public final class Subprocess {
    /** The exit status reported when the deadline killed the command, as timeout(1) reports it. */
    public static final int TIMED_OUT = 124;
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(2);

    private Subprocess() {
    }

    /**
     * A finished (or killed) command.
     *
     * @param exitCode the command's exit status, {@link #TIMED_OUT} if the deadline killed it
     * @param timedOut the deadline killed it; {@code stderr} then ends with a line saying so
     */
    public record Result(List<String> command, int exitCode, String stdout, String stderr, boolean timedOut) {
        public Result {
            command = List.copyOf(command);
        }

        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** stdout then stderr, stripped: for messages and for commands whose output is all one thing. */
        public String output() {
            String out = stdout.strip();
            String err = stderr.strip();
            return out.isEmpty() ? err : err.isEmpty() ? out : out + "\n" + err;
        }

        /** `the command` and what went wrong, for an error message. */
        public String describe() {
            String what = timedOut ? "did not finish in time and was killed" : "failed (exit " + exitCode + ")";
            String out = output();
            return "`" + String.join(" ", command) + "` " + what + (out.isEmpty() ? "" : ": " + out);
        }

        /** This result if the command succeeded, else an IOException that says which command and why. */
        public Result orThrow() throws IOException {
            if (!ok()) {
                throw new IOException(describe());
            }
            return this;
        }
    }

    /** Runs {@code command} with a deadline. Throws only if it cannot be started or the caller is interrupted. */
    public static Result run(List<String> command, Duration timeout) throws IOException {
        return run(command, timeout, Map.of());
    }

    /** The same with {@code env} added to this process's environment. */
    public static Result run(List<String> command, Duration timeout, Map<String, String> env) throws IOException {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command to run");
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage()
                    + " (is " + command.getFirst() + " installed?)", e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread o = drain(p.getInputStream(), out);
        Thread e = drain(p.getErrorStream(), err);
        try {
            boolean done = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (!done) {
                // the whole tree: a grandchild holding the pipes would keep the readers waiting
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            // a daemon the command left behind may hold the pipes: what was read by then is the output
            o.join(DRAIN_GRACE);
            e.join(DRAIN_GRACE);
            String stderr;
            String stdout;
            synchronized (out) {
                stdout = out.toString(StandardCharsets.UTF_8);
            }
            synchronized (err) {
                stderr = err.toString(StandardCharsets.UTF_8);
            }
            if (!done) {
                stderr += (stderr.isEmpty() ? "" : "\n") + "`" + String.join(" ", command) + "` did not finish within "
                        + timeout.toMillis() + " ms and was killed";
            }
            return new Result(command, done ? p.exitValue() : TIMED_OUT, stdout, stderr, !done);
        } catch (InterruptedException x) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running `" + String.join(" ", command) + "`", x);
        }
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream to) {
        return Thread.ofVirtual().start(() -> {
            byte[] b = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(b)) > 0) {
                    synchronized (to) {
                        to.write(b, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // the process went away; what was read is kept
            }
        });
    }
}
