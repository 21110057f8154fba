package io.cardnet.card.firmware;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The firmware loader against any firmware.yaml text in a few directory layouts (named after a version or not,
 * with or without the ruleset, console key, overlay and a kernel file): a Firmware, or a FirmwareException that
 * names a file of the firmware and a line within it; never another exception. The nft dry run is a no-op here, so
 * fuzzing runs no process (FirmwareLoaderTest checks the real one). Fuzzed with tools/fuzz (docs/security.md).
 */
class FirmwareLoaderFuzzTest {
    private static final RulesetCheck NO_DRY_RUN = ruleset -> { };
    private static final List<String> DIRS = List.of("1.0.0", "2.3.4-rc.1", "not-a-version");
    private static Path base;

    @BeforeAll
    static void layouts() throws IOException {
        base = Files.createTempDirectory("cardnet-fuzz");
        for (String d : DIRS) {
            Files.createDirectories(base.resolve(d));
        }
        // the full layout in 1.0.0; 2.3.4-rc.1 holds only what a test writes
        Path full = base.resolve("1.0.0");
        Files.writeString(full.resolve("firewall.nft"), "table inet card {}\n");
        Files.writeString(full.resolve("authorized_keys"), "");
        Files.createDirectories(full.resolve("overlay"));
        Files.createDirectories(full.resolve("kernel/boot"));
        Files.writeString(full.resolve("linux.deb"), "");
    }

    @AfterAll
    static void remove() throws IOException {
        try (Stream<Path> s = Files.walk(base)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void anyFirmwareIsLoadedOrRefusedWithFileAndLine(FuzzedDataProvider in) throws IOException {
        Path dir = base.resolve(in.pickValue(DIRS));
        boolean present = in.consumeInt(0, 15) != 0;
        String text = in.consumeRemainingAsString();
        Path yaml = dir.resolve(Firmware.FILE);
        if (present) {
            Files.writeString(yaml, text);
        } else {
            Files.deleteIfExists(yaml);
        }
        try {
            Firmware f = new FirmwareLoader(NO_DRY_RUN).read(dir);
            assertEquals(dir.getFileName().toString(), f.version());
            assertTrue(f.ruleset().startsWith(dir), "ruleset outside the firmware: " + f.ruleset());
        } catch (FirmwareException e) {
            assertTrue(e.file().startsWith(dir), "names " + e.file() + ", not a file of " + dir);
            assertFalse(e.getMessage().isBlank());
            long lines = text.lines().count() + 1;
            assertTrue(e.line() >= 0 && (e.line() <= lines || !e.file().equals(yaml)),
                    "line " + e.line() + " of a " + lines + "-line firmware.yaml: " + e.getMessage());
        } catch (RuntimeException e) {
            fail("firmware.yaml " + text.length() + " chars: " + e, e);
        }
    }
}
