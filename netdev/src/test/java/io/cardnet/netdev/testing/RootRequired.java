package io.cardnet.netdev.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Policy for tests that need root (network namespaces, TUN devices): on a developer machine they
 * are skipped with a message saying why; on CI (environment variable {@code CI=true}) they fail,
 * so a CI runner that lost its privileges cannot go green by silently skipping them.
 *
 * <p>Use {@code @ExtendWith(RootRequired.class)} on a test class, or call {@link #check()} first
 * thing in a test.
 */
public final class RootRequired implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        check();
    }

    /** Skips (or, on CI, fails) the calling test unless the process runs as uid 0. */
    public static void check() {
        if (effectiveUid() == 0) {
            return;
        }
        String why = "needs root (effective uid 0) to create network namespaces and TUN devices; run as root"
                + " (e.g. sudo) to include it";
        if ("true".equals(System.getenv("CI"))) {
            fail("CI=true and not root: " + why);
        }
        Assumptions.assumeTrue(false, "skipped: " + why);
    }

    /**
     * Skips (or, on CI, fails) the calling test unless {@code tool} is on the PATH. CI installs every tool the
     * tests use (see .ci/run), so a missing one there is a broken CI, not a reason to skip.
     */
    public static void requireTool(String tool) {
        boolean found = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
        if (found) {
            return;
        }
        String why = tool + " is not installed (apt-get install " + tool + ")";
        if ("true".equals(System.getenv("CI"))) {
            fail("CI=true and " + why);
        }
        Assumptions.assumeTrue(false, "skipped: " + why);
    }

    /** The effective uid, from the "Uid:" line of /proc/self/status (real, effective, saved, fs). */
    public static int effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no Uid: line in /proc/self/status");
    }
}
