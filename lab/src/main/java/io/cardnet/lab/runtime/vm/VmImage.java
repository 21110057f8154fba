package io.cardnet.lab.runtime.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.LabException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A card VM's image for one firmware, as images/vm/build.sh leaves it in the cache (CACHE/vm/HASH): the kernel,
 * its initramfs, the root disk (ext4) and the manifest that says what they are.
 *
 * @param kernelRelease what {@code uname -r} says inside the card
 */
public record VmImage(Path directory, String firmwareVersion, String kernelRelease) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BUILD_MINUTES = 20;

    public Path vmlinuz() {
        return directory.resolve("vmlinuz");
    }

    public Path initrd() {
        return directory.resolve("initrd.img");
    }

    public Path rootfs() {
        return directory.resolve("rootfs.img");
    }

    public static VmImage load(Path directory) throws IOException {
        Path manifest = directory.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            throw new LabException("no card VM image in " + directory + " (its manifest.json is missing): the cache was"
                    + " cleaned? `cardnet lab down` and up again rebuilds it");
        }
        JsonNode m = JSON.readTree(manifest.toFile());
        return new VmImage(directory, m.path("firmware").asText(), m.path("kernelRelease").asText());
    }

    /**
     * The image of {@code firmware}, built by images/vm/build.sh if the cache has none (a minute the first time:
     * the base, the kernel download; seconds afterwards). Its progress lines go to {@code progress}.
     */
    public static VmImage ensure(Firmware firmware, Consumer<String> progress) throws IOException {
        Path home = FirmwareCatalog.home();
        Path script = home == null ? null : home.resolve("images/vm/build.sh");
        if (script == null || !Files.isExecutable(script)) {
            throw new LabException("the VM runtime builds the card's image with images/vm/build.sh of cardnet's checkout,"
                    + " which is not found here; run cardnet from its checkout or set CARDNET_HOME");
        }
        Path jar = home.resolve("lab/target/cardnet.jar");
        if (!Files.isRegularFile(jar)) {
            throw new LabException("no " + jar + " to put on the card: build cardnet first (`./cardnet --help` builds it)");
        }
        List<String> cmd = new ArrayList<>(List.of(script.toString(), "--firmware", firmware.directory().toString(),
                "--kernel", firmware.kernel().path() != null ? firmware.kernel().path().toString() : firmware.kernel().spec(),
                "--jar", jar.toString()));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        List<String> tail = new ArrayList<>();
        Thread errors = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (tail) {
                        tail.add(line);
                        if (tail.size() > 20) {
                            tail.removeFirst();
                        }
                    }
                    if (line.startsWith("images/")) {
                        progress.accept(line);
                    }
                }
            } catch (IOException ignored) {
                // the build ended
            }
        });
        StringBuilder stdout = new StringBuilder();
        Thread output = Thread.ofVirtual().start(() -> {
            try (var in = p.getInputStream()) {
                stdout.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the build ended
            }
        });
        String out;
        try {
            if (!p.waitFor(BUILD_MINUTES, TimeUnit.MINUTES)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new LabException("building the card VM image took more than " + BUILD_MINUTES + " minutes; gave up");
            }
            errors.join(2_000);
            output.join(2_000);
            out = stdout.toString().strip();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building the card VM image", e);
        }
        if (p.exitValue() != 0) {
            String why;
            synchronized (tail) {
                why = String.join("\n  ", tail);
            }
            throw new LabException("could not build the card VM image of firmware " + firmware.version() + " (kernel "
                    + firmware.kernel().describe() + "):\n  " + why);
        }
        String[] lines = out.split("\n");
        return load(Path.of(lines[lines.length - 1].strip()));
    }
}
