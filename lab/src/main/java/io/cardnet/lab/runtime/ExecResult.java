package io.cardnet.lab.runtime;

import io.cardnet.netdev.Subprocess;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * A command's outcome with its two output streams apart: what `cardnet card exec` prints, and what a health check
 * judges. {@link #run} drains both streams while the command runs and enforces its deadline even when the command
 * keeps its output open.
 *
 * @param exitCode the command's exit status (124 when the deadline killed it, as timeout(1) says)
 */
public record ExecResult(int exitCode, String stdout, String stderr) {
    public static final int TIMED_OUT = Subprocess.TIMED_OUT;

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
        Subprocess.Result r = Subprocess.run(command, timeout);
        return new ExecResult(r.exitCode(), r.stdout(), r.stderr());
    }
}
