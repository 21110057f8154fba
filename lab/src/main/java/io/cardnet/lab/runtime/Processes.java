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
        return ProcessHandle.of(p.pid()).filter(ProcessHandle::isAlive)
                .filter(h -> p.started() == null || p.started().isEmpty()
                        || h.info().startInstant().map(Object::toString).orElse("").equals(p.started()));
    }

    static boolean anyAlive(LabState s) {
        return s.processes().values().stream().anyMatch(Processes::isAlive);
    }

    static void stop(LabState.Proc p, Consumer<String> progress) {
        Optional<ProcessHandle> h = handle(p);
        if (h.isEmpty()) {
            return;
        }
        ProcessHandle ph = h.get();
        ph.destroy();
        try {
            ph.onExit().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            progress.accept("pid " + p.pid() + " ignored SIGTERM for 5 s; killing it");
            ph.destroyForcibly();
            try {
                ph.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                progress.accept("pid " + p.pid() + " did not exit after SIGKILL");
            }
        }
        progress.accept("stopped pid " + p.pid());
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
