package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AotCacheTest {
    @TempDir
    Path dir;

    @Test
    void theKeyFollowsTheJarsBytesNotItsNameOrTime() throws IOException {
        Path jdk = Files.createDirectories(dir.resolve("jdk"));
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25\"\n");
        Path a = jar(dir.resolve("a.jar"), "x");
        Path sameBytes = Files.copy(a, dir.resolve("copy.jar"));
        Files.setLastModifiedTime(sameBytes, java.nio.file.attribute.FileTime.fromMillis(0));
        Path changed = jar(dir.resolve("b.jar"), "y");
        assertEquals(AotCache.key(a, jdk), AotCache.key(sameBytes, jdk));
        assertNotEquals(AotCache.key(a, jdk), AotCache.key(changed, jdk), "a changed jar must get a new cache");
        assertTrue(AotCache.key(a, jdk).matches("[0-9a-f]{16}"));
        String before = AotCache.key(a, jdk);
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25.0.2\"\n");
        assertNotEquals(before, AotCache.key(a, jdk), "another JDK must get a new cache");
    }

    @Test
    void aClassPathThatIsNotOneJarRunsWithoutACacheAndSaysWhy() throws IOException {
        Path jdk = Files.createDirectories(dir.resolve("jdk"));
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25\"\n");
        AotCache.Target dirs = AotCache.resolve(null, dir + java.io.File.pathSeparator + dir, jdk);
        assertFalse(dirs.available());
        assertTrue(dirs.unavailable().contains("not one jar"), dirs.unavailable());
        assertEquals(AotCache.DEFAULT_ROOT, dirs.root());
        assertFalse(AotCache.resolve("off", jar(dir.resolve("c.jar"), "z").toString(), jdk).available());
        AotCache.Target one = AotCache.resolve(dir.resolve("cache").toString(), dir.resolve("c.jar").toString(), jdk);
        assertTrue(one.available(), one.unavailable());
        assertEquals(dir.resolve("cache").resolve(one.key()).resolve("card-node.aot"), one.file("card-node"));
    }

    @Test
    void theJvmsOwnComplaintsAboutACacheAreFoundInALog() throws IOException {
        Path log = dir.resolve("sim.log");
        Files.write(log, List.of("cardnet: sim starting",
                "[0.014s][error][aot] An error has occurred while processing the AOT cache. Run with -Xlog:aot for details.",
                "cardnet: sim ready"));
        assertEquals(1, AotCache.complaints(log).size());
        Files.write(log, List.of("cardnet: sim ready"));
        assertTrue(AotCache.complaints(log).isEmpty());
    }

    @Test
    void theWarmUpCallsTheJitQuietOnlyWhenEveryJvmCompiledLittleOverTheWholeLookBack() {
        Map<String, Long> t0 = Map.of("sim", 100L, "card-node", 100L);
        Map<String, Long> t1 = Map.of("sim", 150L, "card-node", 105L);
        Map<String, Long> t2 = Map.of("sim", 155L, "card-node", 110L);
        assertFalse(WarmUp.jitQuiet(List.of(t0, t1), 2, 20), "not enough samples yet");
        assertFalse(WarmUp.jitQuiet(List.of(t0, t1, t2), 2, 20), "sim compiled 55 ms in the look-back");
        assertTrue(WarmUp.jitQuiet(List.of(t0, t1, t2, Map.of("sim", 160L, "card-node", 112L)), 2, 20));
        assertFalse(WarmUp.jitQuiet(List.of(t0, t1, t2, Map.of("sim", 160L)), 2, 20), "a JVM that stopped answering");
        assertTrue(WarmUp.steady(List.of(1.0, 5.0, 5.2, 4.9, 5.1), 4, 0.1));
        assertFalse(WarmUp.steady(List.of(1.0, 5.0, 5.2, 4.0, 5.1), 4, 0.1));
    }

    @Test
    void onlyTheNewestCachesAreKept() throws IOException {
        for (int i = 0; i < 4; i++) {
            Path c = Files.createDirectories(dir.resolve(String.format("%016x", i)));
            Files.writeString(c.resolve("sim.aot"), "x");
            Files.setLastModifiedTime(c, java.nio.file.attribute.FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Files.createDirectories(dir.resolve("0000000000000009.tmp-1"));
        List<String> said = new java.util.ArrayList<>();
        AotCacheBuilder.pruneOldCaches(dir, 2, said::add);
        assertEquals(2, said.size(), said.toString());
        assertFalse(Files.exists(dir.resolve("0000000000000000")));
        assertFalse(Files.exists(dir.resolve("0000000000000001")));
        assertTrue(Files.exists(dir.resolve("0000000000000002")) && Files.exists(dir.resolve("0000000000000003")));
        assertTrue(Files.exists(dir.resolve("0000000000000009.tmp-1")), "a builder's work is not a cache");
    }

    private static Path jar(Path at, String content) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(at))) {
            z.putNextEntry(new ZipEntry("a.txt"));
            z.write(content.getBytes());
            z.closeEntry();
        }
        return at;
    }
}
