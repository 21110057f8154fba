package io.cardnet.lab.runtime;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Where the lab's JDK AOT caches (JEP 483/514/515) live and which JVM options use them. A cache holds the classes a
 * JVM loaded and linked and the method profiles it gathered during a training run on the real data path
 * ({@link AotCacheBuilder}), so a component starts with its hot path loaded, linked and profiled.
 *
 * <p>One directory per jar and JDK, {@code ROOT/KEY/} with {@code sim.aot}, {@code card-node.aot},
 * {@code host-bridge.aot} and {@code cli.aot} (the `cardnet` command itself, e.g. {@code tool send}). KEY hashes the
 * jar's bytes and the JDK's {@code release} file: JDK 25 does not refuse a cache whose jar changed under the same
 * path (measured: a jar with an entry added still mapped the old cache's classes), so the name must change with the
 * content. The {@code cardnet} script computes the same KEY with sha256sum.
 *
 * <p>The JVM can only use a cache for a class path of jars, exactly the one it was trained with; a class path with
 * directories (the tests' target/classes) runs without one.
 */
public final class AotCache {
    /** Overrides {@link #DEFAULT_ROOT}; {@code off} disables the cache (tests use a directory of their own). */
    public static final String ROOT_ENV = "CARDNET_AOT_CACHE";
    public static final Path DEFAULT_ROOT = Path.of("/var/cache/cardnet/aot");
    /** The JVM options of the `cardnet` script; a cache is only usable with the options it was trained with. */
    static final List<String> CLI_OPTIONS = List.of("--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-XX:-UsePerfData");
    static final String CLI = "cli";

    /** What this JVM can do about a cache: the jar and key it would use, or why there is none. */
    public record Target(Path root, Path jar, String key, String unavailable) {
        public boolean available() {
            return unavailable == null;
        }

        public Path dir() {
            return root.resolve(key);
        }

        /** The cache file of one JVM kind: a component's command ("sim", ...) or {@link #CLI}. */
        public Path file(String kind) {
            return dir().resolve(kind + ".aot");
        }

        public Path failedMarker() {
            return root.resolve(key + ".failed");
        }
    }

    /** What a lab was started with, for its state file and `lab status`. */
    public record Status(String state, String cache, String detail) {
        static Status used(Path dir, String how) {
            return new Status("used", dir.toString(), how);
        }

        static Status off(String why) {
            return new Status("off", null, why);
        }
    }

    private static volatile Target target;
    /** Set in the training JVM only: components record into this directory instead of using a cache. */
    private static volatile Path recording;

    private AotCache() {
    }

    /** This JVM's target, computed once (hashing the jar takes ~0.1 s). */
    public static Target target() {
        Target t = target;
        if (t == null) {
            t = resolve(System.getenv(ROOT_ENV), System.getProperty("java.class.path"), Path.of(System.getProperty("java.home")));
            target = t;
        }
        return t;
    }

    static Target resolve(String rootSetting, String classPath, Path javaHome) {
        Path root = rootSetting == null || rootSetting.isBlank() ? DEFAULT_ROOT : Path.of(rootSetting);
        if ("off".equals(rootSetting)) {
            return new Target(root, null, null, ROOT_ENV + "=off");
        }
        String[] entries = classPath == null ? new String[0] : classPath.split(File.pathSeparator);
        if (entries.length != 1 || !entries[0].endsWith(".jar") || !Files.isRegularFile(Path.of(entries[0]))) {
            return new Target(root, null, null, "the class path is not one jar (" + abbreviate(classPath)
                    + "); the JVM's AOT cache needs the jar `./cardnet` and `java -jar cardnet.jar` run");
        }
        Path jar = Path.of(entries[0]).toAbsolutePath().normalize();
        try {
            return new Target(root, jar, key(jar, javaHome), null);
        } catch (IOException e) {
            return new Target(root, jar, null, "cannot read " + jar + " to key its cache: " + e.getMessage());
        }
    }

    /**
     * sha256("JARSHA JDKSHA") cut to 16 hex digits, where JARSHA is the jar's SHA-256 and JDKSHA that of the JDK's
     * {@code release} file, both in hex; the `cardnet` script computes exactly this.
     */
    public static String key(Path jar, Path javaHome) throws IOException {
        String jdk = sha256Hex(javaHome.resolve("release"));
        String text = sha256Hex(jar) + " " + jdk;
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .substring(0, 16);
    }

    static String sha256Hex(Path file) throws IOException {
        MessageDigest sha = sha256();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** In the training JVM: every component the lab starts records its profile into {@code work}. */
    public static void recordInto(Path work) {
        recording = work;
    }

    static boolean recording() {
        return recording != null;
    }

    /** The JVM options that record (training) or use (a cache exists) the cache of a component; else none. */
    static List<String> options(Component c) {
        Path work = recording;
        if (work != null) {
            return List.of("-XX:AOTMode=record", "-XX:AOTConfiguration=" + work.resolve(c.command() + ".aotconf"));
        }
        Target t = target();
        if (t.available() && Files.isReadable(t.file(c.command()))) {
            return List.of("-XX:AOTCache=" + t.file(c.command()));
        }
        return List.of();
    }

    /**
     * The JVM's own complaints about a cache in a component's log: it goes on without the cache and says so on
     * stdout as {@code [error][aot]} or {@code [warning][aot]} (e.g. "Mismatched values for property ...",
     * "An error has occurred while processing the AOT cache"). Empty if it had none.
     */
    static List<String> complaints(Path log) {
        try (var lines = Files.lines(log)) {
            return lines.filter(l -> l.contains("][error][aot") || l.contains("][warning][aot")
                    || l.contains("][error][cds") || l.contains("][warning][cds")).limit(3).toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            return List.of();
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "none" : s.length() > 100 ? s.substring(0, 100) + "…" : s;
    }
}
