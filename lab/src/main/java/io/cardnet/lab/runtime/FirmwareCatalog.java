package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the shipped firmware lives ({@code images/card-firmware/<version>/} of the cardnet checkout) and how a
 * user's "--to 1.0.1" or "--to ./my-firmware" becomes a directory.
 */
public final class FirmwareCatalog {
    public static final String DEFAULT_VERSION = "1.0.0";
    private static final Path SHIPPED = Path.of("images", "card-firmware");

    private FirmwareCatalog() {
    }

    /**
     * The checkout that holds images/card-firmware: {@code -Dcardnet.home}, {@code $CARDNET_HOME}, or the first
     * directory above cardnet's own jar (or classes) that has one; null if none does.
     */
    public static Path home() {
        String configured = System.getProperty("cardnet.home", System.getenv("CARDNET_HOME"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        try {
            Path p = Path.of(FirmwareCatalog.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path d = p.toAbsolutePath(); d != null; d = d.getParent()) {
                if (Files.isDirectory(d.resolve(SHIPPED))) {
                    return d;
                }
            }
        } catch (Exception e) {
            // no code source (unusual class loader): fall through to the working directory
        }
        Path cwd = Path.of("").toAbsolutePath();
        return Files.isDirectory(cwd.resolve(SHIPPED)) ? cwd : null;
    }

    /** The shipped 1.0.0, which a lab boots unless told otherwise; null if this installation has no images. */
    public static Path defaultFirmware() {
        Path home = home();
        Path d = home == null ? null : home.resolve(SHIPPED).resolve(DEFAULT_VERSION);
        return d != null && Files.isDirectory(d) ? d : null;
    }

    /** A firmware directory from a version ("1.0.1": the shipped one) or a path to a directory. */
    public static Path resolve(String versionOrDir) throws IOException {
        Path asDir = Path.of(versionOrDir);
        if (Files.isDirectory(asDir)) {
            return asDir.toAbsolutePath().normalize();
        }
        Path home = home();
        if (home != null && Files.isDirectory(home.resolve(SHIPPED).resolve(versionOrDir))) {
            return home.resolve(SHIPPED).resolve(versionOrDir);
        }
        throw new LabException("no firmware '" + versionOrDir + "': not a directory, and not a shipped version ("
                + String.join(", ", shippedVersions()) + " in " + (home == null ? SHIPPED : home.resolve(SHIPPED)) + ")");
    }

    public static List<String> shippedVersions() throws IOException {
        Path home = home();
        if (home == null) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(home.resolve(SHIPPED))) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
