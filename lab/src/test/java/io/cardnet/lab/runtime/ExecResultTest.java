package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `card exec`'s runner: both streams apart, the exit status passed on, and a deadline that holds. */
class ExecResultTest {
    @Test
    void stdoutStderrAndTheExitStatusArePassedOnApart() throws Exception {
        ExecResult r = ExecResult.run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), Duration.ofSeconds(30));
        assertEquals(3, r.exitCode());
        assertEquals("out\n", r.stdout());
        assertEquals("err\n", r.stderr());
        assertEquals("out\nerr", r.output());
    }

    @Test
    void theDeadlineHoldsEvenWhenAChildKeepsTheOutputOpen() throws Exception {
        long start = System.nanoTime();
        // the shell's background child inherits stdout: reading to its end would wait for the sleep
        ExecResult r = ExecResult.run(List.of("sh", "-c", "sleep 60 & sleep 60"), Duration.ofMillis(300));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(ExecResult.TIMED_OUT, r.exitCode());
        assertTrue(r.stderr().contains("did not finish within 300 ms"), r.stderr());
        assertTrue(ms < 20_000, "returned after " + ms + " ms, not at the deadline");
    }

    @Test
    void aProgramThatDoesNotExistSaysSo() {
        IOException e = assertThrows(IOException.class,
                () -> ExecResult.run(List.of("/nonexistent/tool"), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("is /nonexistent/tool installed?"), e.getMessage());
    }
}
