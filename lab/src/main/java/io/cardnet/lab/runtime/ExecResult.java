package io.cardnet.lab.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command's outcome with its two output streams apart: what `cardnet card exec` prints, and what a health check
 * judges. {@link #run} drains both streams while the command runs and enforces its deadline even when the command
 * keeps its output open.
 *
 * @param exitCode the command's exit status (124 when the deadline killed it, as timeout(1) says)
 */
public record ExecResult(int exitCode, String stdout, String stderr) {
    public static final int TIMED_OUT = 124;

    public boolean ok() {
        return exitCode == 0;
    }

    /** stdout and stderr together, for a one-line reason. */
    public String output() {
        String out = stdout.strip();
        String err = stderr.strip();
        return out.isEmpty() ? err : err.isEmpty() ? out : out + "\n" + err;
    }

    /** Runs {@code command} with stdin closed; kills it (and reports {@link #TIMED_OUT}) at the deadline. */
    public static ExecResult run(List<String> command, Duration timeout) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new IOException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage()
                    + " (is " + command.getFirst() + " installed?)", e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread o = drain(p.getInputStream(), out);
        Thread e = drain(p.getErrorStream(), err);
        try {
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            o.join(2_000);
            e.join(2_000);
            String stderr = err.toString(StandardCharsets.UTF_8);
            if (!done) {
                stderr += (stderr.isEmpty() ? "" : "\n") + "`" + String.join(" ", command) + "` did not finish within "
                        + timeout.toMillis() + " ms and was killed";
            }
            return new ExecResult(done ? p.exitValue() : TIMED_OUT, out.toString(StandardCharsets.UTF_8), stderr);
        } catch (InterruptedException x) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running `" + String.join(" ", command) + "`", x);
        }
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream to) {
        return Thread.ofVirtual().start(() -> {
            try (in) {
                in.transferTo(to);
            } catch (IOException ignored) {
                // the process went away; what was read is kept
            }
        });
    }
}
