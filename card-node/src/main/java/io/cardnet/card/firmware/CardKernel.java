package io.cardnet.card.firmware;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The Linux kernel a firmware boots when the card is a virtual machine ({@code cardnet lab up --runtime vm}). In the
 * netns and compose runtimes the card shares the host's kernel, and this only says which kernel the firmware was
 * made for.
 *
 * <p>{@code spec} is one of
 * <ul>
 *   <li>a Debian kernel series, {@code 6.1} or {@code 6.12}: the newest {@code linux-image-*-amd64} of the Debian
 *       release that ships it (bookworm, trixie), resolved when the card's image is first built and then cached;</li>
 *   <li>an exact Debian kernel package version, e.g. {@code 6.1.0-57-amd64} ({@code linux-image-6.1.0-57-amd64});</li>
 *   <li>a {@link #path}: an extracted kernel package (a directory with {@code boot/vmlinuz-*} and
 *       {@code lib/modules/*}) or a {@code .deb} file, relative to the firmware directory or absolute.</li>
 * </ul>
 *
 * @param cmdline extra kernel arguments ("" for none); the image sets root, console and init itself
 * @param line    firmware.yaml's line that declared it, for reports
 */
public record CardKernel(String spec, Path path, String cmdline, int line) {
    /** A lab with no {@code kernel:} in its firmware boots this series. */
    public static final String DEFAULT_SERIES = "6.1";
    private static final Pattern SERIES = Pattern.compile("\\d+\\.\\d+");
    private static final Pattern PACKAGE = Pattern.compile("\\d+\\.\\d+\\.\\d+(?:-\\d+)?(?:\\+deb\\d+)?-amd64");
    /** Arguments the card's image owns: a firmware that set them would not boot the card's root and init. */
    private static final Pattern OWNED = Pattern.compile("(?:^|\\s)(root|init|rdinit|console)=");

    public static CardKernel defaultKernel() {
        return new CardKernel(DEFAULT_SERIES, null, "", 0);
    }

    public boolean isSeries() {
        return path == null && SERIES.matcher(spec).matches();
    }

    public boolean isPackage() {
        return path == null && PACKAGE.matcher(spec).matches();
    }

    /** Why {@code spec} is not a kernel this format can name, or null if it is one (paths are checked by the loader). */
    static String problemWithSpec(String spec) {
        if (SERIES.matcher(spec).matches() || PACKAGE.matcher(spec).matches() || looksLikePath(spec)) {
            return null;
        }
        return "kernel '" + spec + "' is neither a Debian kernel series (6.1, 6.12), a package version"
                + " (e.g. 6.1.0-57-amd64) nor a path (./kernel, /srv/linux-image.deb)";
    }

    static boolean looksLikePath(String spec) {
        return spec.contains("/") || spec.endsWith(".deb");
    }

    /** Why these extra kernel arguments cannot be used, or null if they can. */
    static String problemWithCmdline(String cmdline) {
        if (cmdline.contains("\n") || cmdline.contains("\"")) {
            return "kernel cmdline must be one line without quotes";
        }
        var m = OWNED.matcher(cmdline);
        if (m.find()) {
            return "kernel cmdline may not set " + m.group(1) + "=: the card's image sets root, init and console itself";
        }
        return null;
    }

    /** For reports: "6.12" or "6.12 (cmdline: ...)". */
    public String describe() {
        return spec + (cmdline.isBlank() ? "" : " (cmdline: " + cmdline + ")");
    }
}
