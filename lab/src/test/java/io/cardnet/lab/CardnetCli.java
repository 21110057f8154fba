package io.cardnet.lab;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the `cardnet` command as a user would: a separate JVM with this test's class path. */
final class CardnetCli {
    private CardnetCli() {
    }

    record Run(int exit, String out, String err) {
    }

    static List<String> command(String... args) {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path")
                        .replace(File.pathSeparator + File.pathSeparator, File.pathSeparator), "io.cardnet.lab.Cardnet"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Run run(String... args) throws IOException {
        return run(java.time.Duration.ofSeconds(90), args);
    }

    /** Runs `cardnet ARGS`, both output streams drained while it runs, killed at the deadline. */
    static Run run(java.time.Duration timeout, String... args) throws IOException {
        return run(java.util.Map.of(), timeout, args);
    }

    /** As {@link #run(java.time.Duration, String...)}, with {@code env} added to the environment. */
    static Run run(java.util.Map<String, String> env, java.time.Duration timeout, String... args) throws IOException {
        return run(command(args), env, timeout, args);
    }

    /**
     * Runs `java -jar target/cardnet.jar ARGS` as the `cardnet` script does: the packaged jar, the only class path a
     * JVM AOT cache can serve (the tests' own has directories). Failsafe runs after `package`, so it exists.
     */
    static Run runJar(java.util.Map<String, String> env, java.time.Duration timeout, String... args) throws IOException {
        java.nio.file.Path jar = java.nio.file.Path.of("target", "cardnet.jar").toAbsolutePath();
        if (!java.nio.file.Files.isRegularFile(jar)) {
            throw new IOException(jar + " is missing: run the integration tests through `./mvnw verify`, which packages it first");
        }
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-XX:-UsePerfData",
                "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, env, timeout, args);
    }

    private static Run run(List<String> command, java.util.Map<String, String> env, java.time.Duration timeout,
                           String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        Process p = pb.start();
        try {
            p.getOutputStream().close();
            var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
            var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("cardnet " + String.join(" ", args) + " did not finish within " + timeout
                        + "; it printed: " + err.getNow("") + out.getNow(""));
            }
            return new Run(p.exitValue(), out.get(), err.get());
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            p.destroyForcibly();
            throw new IOException(e);
        }
    }

    private static String drain(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
