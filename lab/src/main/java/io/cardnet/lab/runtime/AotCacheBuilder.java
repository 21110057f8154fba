package io.cardnet.lab.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Builds this jar's AOT caches once: a training JVM ({@code cardnet aot-build}, itself recording the CLI's cache)
 * brings up a throwaway lab whose three components record their profiles while real traffic crosses the bus; then
 * one {@code -XX:AOTMode=create} per JVM kind turns each recording into a cache (JEP 483's two steps, rather than
 * JEP 514's one: the component JVMs exit on SIGTERM and must not spend their stop deadline assembling a cache).
 *
 * <p>Everything is made in {@code ROOT/KEY.tmp-PID} and renamed to {@code ROOT/KEY} in one step, under an exclusive
 * lock on {@code ROOT/KEY.lock}: a second builder waits and then finds the cache made, and a reader never sees half
 * a cache. A failed training leaves {@code ROOT/KEY.failed} (the reason) so every later lab does not train again;
 * the lab then runs without a cache, which only makes its first seconds slower.
 */
public final class AotCacheBuilder {
    /** The training lab comes up, moves ~1.5 GB and goes down: ~30-60 s on 2 busy cores. */
    private static final long TRAINING_DEADLINE_S = 300;
    private static final long CREATE_DEADLINE_S = 180;
    static final String PROGRESS_PREFIX = "aot-build: ";
    /** Caches of this many jars are kept. */
    private static final int KEEP = 6;
    static final List<String> KINDS = List.of(Component.SIM.command(), Component.CARD_NODE.command(),
            Component.HOST_BRIDGE.command(), AotCache.CLI);

    private AotCacheBuilder() {
    }

    /** The cache this JVM's lab components will use: built now if this jar has none yet. Never throws. */
    public static AotCache.Status ensure(Consumer<String> progress) {
        AotCache.Target t = AotCache.target();
        if (!t.available()) {
            return AotCache.Status.off(t.unavailable());
        }
        if (AotCache.recording()) {
            return AotCache.Status.off("this lab trains the cache");
        }
        if (complete(t)) {
            return AotCache.Status.used(t.dir(), "built earlier");
        }
        AotCache.Status failed = failedEarlier(t);
        if (failed != null) {
            return failed;
        }
        try {
            Files.createDirectories(t.root(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            try (FileChannel ch = FileChannel.open(t.root().resolve(t.key() + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                FileLock free = ch.tryLock();
                if (free == null) {
                    progress.accept("waiting for another cardnet that is building the JVM cache in " + t.dir());
                }
                try (FileLock held = free != null ? free : ch.lock()) {
                    if (complete(t)) {
                        return AotCache.Status.used(t.dir(), "built by another cardnet meanwhile");
                    }
                    return build(t, progress);
                }
            }
        } catch (IOException e) {
            String why = "cannot build the JVM cache in " + t.root() + ": " + e.getMessage();
            progress.accept(why + "; running without it (the first seconds are slower)");
            return AotCache.Status.off(why);
        }
    }

    private static boolean complete(AotCache.Target t) {
        return KINDS.stream().allMatch(k -> Files.isRegularFile(t.file(k)));
    }

    private static AotCache.Status failedEarlier(AotCache.Target t) {
        if (!Files.exists(t.failedMarker())) {
            return null;
        }
        String reason;
        try {
            reason = Files.readString(t.failedMarker()).strip();
        } catch (IOException e) {
            reason = e.getMessage();
        }
        return AotCache.Status.off("training the JVM cache failed earlier for this jar (" + reason + "); remove "
                + t.failedMarker() + " to try again");
    }

    private static AotCache.Status build(AotCache.Target t, Consumer<String> progress) throws IOException {
        removeAbandonedWork(t);
        Path work = t.root().resolve(t.key() + ".tmp-" + ProcessHandle.current().pid());
        Processes.deleteTree(work);
        Files.createDirectories(work);
        Path log = work.resolve("training.log");
        long start = System.nanoTime();
        progress.accept("building the JVM cache for this jar (once per jar; AOT, trained on a throwaway lab's real"
                + " traffic, about a minute) in " + t.dir());
        try {
            String failure = train(t, work, log, progress);
            if (failure == null) {
                failure = create(t, work, log, progress);
            }
            if (failure != null) {
                return fail(t, work, log, failure, progress);
            }
            for (String k : KINDS) {
                Files.delete(work.resolve(k + ".aotconf"));
            }
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(work, t.dir(), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            return fail(t, work, log, e.toString(), progress);
        }
        progress.accept(String.format("JVM cache built in %.0f s: %s", (System.nanoTime() - start) / 1e9, t.dir()));
        pruneOldCaches(t.root(), KEEP, progress);
        return AotCache.Status.used(t.dir(), String.format("built now in %.0f s", (System.nanoTime() - start) / 1e9));
    }

    /** The training run: {@code cardnet aot-build WORK} in a JVM recording the CLI's own profile. */
    private static String train(AotCache.Target t, Path work, Path log, Consumer<String> progress) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java()));
        cmd.addAll(AotCache.CLI_OPTIONS);
        cmd.addAll(List.of("-XX:AOTMode=record", "-XX:AOTConfiguration=" + work.resolve(AotCache.CLI + ".aotconf"),
                "-cp", t.jar().toString(), "io.cardnet.lab.Cardnet", "aot-build", work.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    if (!p.waitFor(TRAINING_DEADLINE_S, TimeUnit.SECONDS)) {
                        p.destroy(); // SIGTERM: its shutdown hook takes the training lab down
                    }
                } catch (InterruptedException e) {
                    p.destroy();
                }
            });
            String line;
            while ((line = out.readLine()) != null) {
                w.println(line);
                if (line.startsWith(PROGRESS_PREFIX)) {
                    progress.accept("JVM cache: " + line.substring(PROGRESS_PREFIX.length()));
                }
            }
            int exit = p.waitFor();
            watchdog.interrupt();
            if (exit != 0) {
                return "the training run exited with " + exit + ": " + Processes.tail(log, 1).strip();
            }
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        for (String k : KINDS) {
            if (!Files.isRegularFile(work.resolve(k + ".aotconf"))) {
                return "the training run wrote no profile for " + k;
            }
        }
        return null;
    }

    /** One {@code -XX:AOTMode=create} per JVM kind, two at a time, each with the options that JVM runs with. */
    private static String create(AotCache.Target t, Path work, Path log, Consumer<String> progress) throws IOException {
        progress.accept("JVM cache: writing the caches of " + String.join(", ", KINDS));
        List<Process> running = new ArrayList<>();
        for (String k : KINDS) {
            List<String> cmd = new ArrayList<>(List.of(java()));
            cmd.addAll(k.equals(AotCache.CLI) ? AotCache.CLI_OPTIONS : Launcher.jvmOptions());
            cmd.addAll(List.of("-XX:AOTMode=create", "-XX:AOTConfiguration=" + work.resolve(k + ".aotconf"),
                    "-XX:AOTCache=" + work.resolve(k + ".aot"), "-cp", t.jar().toString()));
            running.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("create-" + k + ".log").toFile())).start());
        }
        try {
            for (int i = 0; i < KINDS.size(); i++) {
                Process p = running.get(i);
                if (!p.waitFor(CREATE_DEADLINE_S, TimeUnit.SECONDS)) {
                    running.forEach(Process::destroyForcibly);
                    return "writing the cache of " + KINDS.get(i) + " took over " + CREATE_DEADLINE_S + " s";
                }
                if (p.exitValue() != 0 || !Files.isRegularFile(work.resolve(KINDS.get(i) + ".aot"))) {
                    return "writing the cache of " + KINDS.get(i) + " failed (exit " + p.exitValue() + "): "
                            + Processes.tail(work.resolve("create-" + KINDS.get(i) + ".log"), 1).strip();
                }
            }
        } catch (InterruptedException e) {
            running.forEach(Process::destroyForcibly);
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        for (String k : KINDS) {
            Files.writeString(log, Files.readString(work.resolve("create-" + k + ".log")), StandardOpenOption.APPEND);
            Files.delete(work.resolve("create-" + k + ".log"));
            Files.setPosixFilePermissions(work.resolve(k + ".aot"), PosixFilePermissions.fromString("rw-r--r--"));
        }
        return null;
    }

    private static AotCache.Status fail(AotCache.Target t, Path work, Path log, String reason, Consumer<String> progress) {
        Path kept = t.root().resolve(t.key() + ".training.log");
        try {
            if (Files.exists(log)) {
                Files.move(log, kept, StandardCopyOption.REPLACE_EXISTING);
            }
            if (!"interrupted".equals(reason)) {
                Files.writeString(t.failedMarker(), reason + "; log " + kept + "\n");
            }
            Processes.deleteTree(work);
        } catch (IOException e) {
            reason += " (and cleaning up failed: " + e.getMessage() + ")";
        }
        progress.accept("could not build the JVM cache: " + reason + "; its log is " + kept
                + ". The lab runs without it (its first seconds are slower); remove " + t.failedMarker()
                + " to try again");
        return AotCache.Status.off("training failed: " + reason);
    }

    /**
     * Each build of the jar gets its own ~150 MB of caches: keep the {@code keep} newest (several work trees or
     * versions may take turns), remove the rest. A JVM still running from a removed cache keeps its mapping. Lock
     * files stay: removing one another builder holds would let a third build beside it.
     */
    static void pruneOldCaches(Path root, int keep, Consumer<String> progress) {
        try (var entries = Files.list(root)) {
            List<Path> caches = entries.filter(p -> p.getFileName().toString().matches("[0-9a-f]{16}") && Files.isDirectory(p))
                    .sorted(java.util.Comparator.comparing(AotCacheBuilder::modified).reversed()).toList();
            for (Path old : caches.subList(Math.min(keep, caches.size()), caches.size())) {
                Processes.deleteTree(old);
                progress.accept("removed the JVM cache of an older jar: " + old);
            }
        } catch (IOException e) {
            progress.accept("could not prune older JVM caches in " + root + ": " + e.getMessage());
        }
    }

    private static java.nio.file.attribute.FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }

    /** Work directories of builders that died (Ctrl-C, kill): their pid no longer runs. */
    private static void removeAbandonedWork(AotCache.Target t) throws IOException {
        try (var entries = Files.list(t.root())) {
            for (Path p : entries.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(t.key() + ".tmp-")) {
                    long pid = Long.parseLong(n.substring(n.lastIndexOf('-') + 1));
                    if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                        Processes.deleteTree(p);
                    }
                }
            }
        } catch (NumberFormatException e) {
            // not ours
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
