package io.cardnet.lab;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The compose lab's tests need a Docker engine and the lab's images. Elsewhere they skip, saying what is missing;
 * with CI=true they fail instead, because CI here (.ci/run) starts the engine and builds the images first.
 */
final class DockerRequired {
    static final List<String> IMAGES = List.of("cardnet/pci-link-sim:latest", "cardnet/host-bridge:latest",
            "cardnet/wire-peer:latest", "cardnet/card-firmware:1.0.0", "cardnet/card-firmware:1.0.1", "cardnet/card-firmware:1.2.0",
            "cardnet/prometheus:latest");

    private DockerRequired() {
    }

    static void check() {
        if (!ok("docker", "info")) {
            unavailable("no Docker engine answers `docker info` (start dockerd; .ci/run does)");
        }
        if (!ok("docker", "compose", "version")) {
            unavailable("`docker compose` is missing (the compose v2 plugin; .ci/run installs it)");
        }
        for (String image : IMAGES) {
            if (!ok("docker", "image", "inspect", image)) {
                unavailable("image " + image + " is not built: run `sudo images/build.sh` first");
            }
        }
    }

    private static void unavailable(String why) {
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError("CI=true, so the compose lab tests must run, but " + why);
        }
        Assumptions.abort("skipped: " + why);
    }

    static boolean ok(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Lines `docker` prints for {@code args}. */
    static List<String> lines(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out.lines().filter(l -> !l.isBlank()).toList();
    }
}
