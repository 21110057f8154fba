package io.cardnet.lab.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Starts a lab component as its own JVM, with this JVM's java and class path, inside a namespace when
 * one is given, with only the capabilities it keeps ({@code ip netns exec} and {@code setpriv} exec, so the pid we
 * get is the component's own).
 */
final class Launcher {
    private static final String MAIN = "io.cardnet.lab.Cardnet";

    private Launcher() {
    }

    /** A lab component's command: its JVM, started with only the capabilities it keeps ({@link Capabilities}). */
    static List<String> command(Component component, List<String> args) {
        List<String> cmd = new ArrayList<>(Capabilities.confine(Capabilities.kept(component, args)));
        cmd.addAll(command(AotCache.options(component), component.command(), args));
        return cmd;
    }

    /** A cardnet command that is no lab component (so has no AOT cache), such as a tool the lab runs. */
    static List<String> command(List<String> args) {
        return command(List.of(), args.getFirst(), args.subList(1, args.size()));
    }

    private static List<String> command(List<String> aot, String subcommand, List<String> args) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(p -> Path.of(p).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(jvmOptions());
        cmd.addAll(aot);
        cmd.addAll(List.of("-cp", classPath, MAIN, subcommand));
        cmd.addAll(args);
        return cmd;
    }

    /** The options every component JVM runs with; its AOT cache is created with the same ones. */
    static List<String> jvmOptions() {
        return List.of("--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow",
                "-XX:-UsePerfData",
                "-XX:+UseSerialGC",
                "-Xmx512m");
    }

    static Process start(String namespace, List<String> command, Path log) throws IOException {
        return start(namespace, command, log, false);
    }

    /**
     * As {@link #start(String, List, Path)}; with {@code ownSession} the process gets a session of its own
     * ({@code setsid}, which execs: the pid is still the component's). A component started again by a command that
     * keeps running (a soak restarting the card) would otherwise share that command's process group, and a Ctrl-C
     * meant for the command would kill the lab's card with it.
     */
    static Process start(String namespace, List<String> command, Path log, boolean ownSession) throws IOException {
        List<String> argv = Shell.inNamespace(namespace, command);
        if (ownSession) {
            argv = new java.util.ArrayList<>(argv);
            argv.addFirst("setsid");
        }
        ProcessBuilder pb = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        return pb.start();
    }
}
