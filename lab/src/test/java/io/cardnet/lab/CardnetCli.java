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
        Process p = new ProcessBuilder(command(args)).start();
        try {
            p.getOutputStream().close();
            var out = p.getInputStream().readAllBytes();
            var err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("cardnet " + String.join(" ", args) + " did not finish");
            }
            return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            throw new IOException(e);
        }
    }
}
