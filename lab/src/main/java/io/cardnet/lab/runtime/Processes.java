package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Lab processes by pid: liveness, stop (TERM, then KILL), log tails, and run-directory removal. */
final class Processes {
    private Processes() {
    }

    /** Alive and still ours: a recycled pid running something else does not count. */
    static boolean isAlive(LabState.Proc p) {
        return handle(p).isPresent();
    }

    /** The process, if it still runs and started when we recorded (pid plus start time identify it). */
    private static Optional<ProcessHandle> handle(LabState.Proc p) {
        return ProcessHandle.of(p.pid()).filter(h -> h.isAlive() && !isZombie(h.pid()))
                .filter(h -> p.started() == null || p.started().isEmpty()
                        || h.info().startInstant().map(Object::toString).orElse("").equals(p.started()));
    }

    /**
     * A process that has exited but is not yet reaped still answers to its pid. A lab process whose parent
     * (a detached `lab up`) is gone waits for init to reap it, which can take a while: it is gone all the same.
     */
    static boolean isZombie(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            int end = stat.lastIndexOf(')');
            if (!(end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'Z')) {
                return false;
            }
            // A JVM whose main thread has ended while its other threads still run (shutdown hooks, say) shows its
            // leader as Z too: it is a zombie only once no thread of it is left running.
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                return tasks.filter(t -> !t.getFileName().toString().equals(Long.toString(pid))).findAny().isEmpty();
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops several processes at once: all get SIGTERM first, so their shutdowns overlap. */
    static void stopAll(List<LabState.Proc> procs, Consumer<String> progress) {
        for (LabState.Proc p : procs) {
            handle(p).ifPresent(ProcessHandle::destroy);
        }
        for (LabState.Proc p : procs) {
            if (isAlive(p)) {
                stop(p, progress);
            } else {
                progress.accept("stopped pid " + p.pid());
            }
        }
    }

    static boolean anyAlive(LabState s) {
        return s.processes().values().stream().anyMatch(Processes::isAlive);
    }

    static void stop(LabState.Proc p, Consumer<String> progress) {
        Optional<ProcessHandle> h = handle(p);
        if (h.isEmpty()) {
            progress.accept("pid " + p.pid() + " has exited");
            return;
        }
        ProcessHandle ph = h.get();
        ph.destroy();
        // a JVM training the AOT cache writes its profile (~30 MB) as it exits: give it time on a busy machine
        long grace = AotCache.recording() ? 60_000 : 5_000;
        if (!awaitExit(p, grace)) {
            progress.accept("pid " + p.pid() + " ignored SIGTERM for " + grace / 1000 + " s; killing it");
            ph.destroyForcibly();
            if (!awaitExit(p, 5_000)) {
                progress.accept("pid " + p.pid() + " did not exit after SIGKILL");
                return;
            }
        }
        progress.accept("stopped pid " + p.pid());
    }

    private static boolean awaitExit(LabState.Proc p, long millis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (isAlive(p)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return !isAlive(p);
            }
        }
        return true;
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
