package io.cardnet.netdev;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real child processes: deadlines that fire while a child holds its output open, both streams drained, clear errors. */
class SubprocessTest {

    @Test
    void theDeadlineFiresWhileTheChildKeepsItsOutputOpen() throws Exception {
        // the old read-everything-then-wait pattern would block here for the whole minute
        long start = System.nanoTime();
        Subprocess.Result r = Subprocess.run(List.of("sh", "-c", "echo started; exec sleep 60"), Duration.ofMillis(300));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(30).toNanos(), "the deadline did not fire");
        assertTrue(r.timedOut());
        assertFalse(r.ok());
        assertEquals(Subprocess.TIMED_OUT, r.exitCode());
        assertEquals("started", r.stdout().strip(), "what it printed before the deadline is kept");
        assertTrue(r.describe().contains("`sh -c echo started; exec sleep 60` did not finish in time"), r.describe());
    }

    @Test
    void aGrandchildHoldingThePipeIsKilledWithTheTree() throws Exception {
        Subprocess.Result r = Subprocess.run(List.of("sh", "-c", "sleep 60 & echo $!; wait"), Duration.ofMillis(300));
        assertTrue(r.timedOut());
        long grandchild = Long.parseLong(r.stdout().strip());
        // killed with SIGKILL: gone once the kernel has reaped it (its parent, also killed, leaves it to init)
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertFalse(ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false), "sleep 60 outlived the deadline");
    }

    @Test
    void bothStreamsAreDrainedSoABigOutputCannotDeadlock() throws Exception {
        // 1 MiB on each stream: far beyond a pipe's 64 KiB, so an undrained stream would stall the child
        Subprocess.Result r = Subprocess.run(List.of("sh", "-c",
                "head -c 1048576 /dev/zero | tr '\\0' a; head -c 1048576 /dev/zero | tr '\\0' b >&2; exit 3"),
                Duration.ofSeconds(60));
        assertFalse(r.timedOut(), r.describe());
        assertEquals(3, r.exitCode());
        assertEquals(1 << 20, r.stdout().length());
        assertEquals(1 << 20, r.stderr().length());
        IOException e = assertThrows(IOException.class, r::orThrow);
        assertTrue(e.getMessage().startsWith("`sh -c head") && e.getMessage().contains("failed (exit 3)"), e.getMessage());
    }

    @Test
    void aMissingProgramNamesItselfAndItsEnvironmentIsPassed() throws Exception {
        IOException e = assertThrows(IOException.class,
                () -> Subprocess.run(List.of("cardnet-no-such-tool", "x"), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().contains("cannot run `cardnet-no-such-tool x`")
                && e.getMessage().contains("is cardnet-no-such-tool installed"), e.getMessage());
        Subprocess.Result r = Subprocess.run(List.of("sh", "-c", "echo $CARDNET_TEST_VALUE; cat"), Duration.ofSeconds(30),
                java.util.Map.of("CARDNET_TEST_VALUE", "42"));
        assertTrue(r.ok(), r.describe());
        assertEquals("42", r.output(), "stdin is closed, so cat ends at once");
    }
}
