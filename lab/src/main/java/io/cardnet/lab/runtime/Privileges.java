package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks for the privilege the netns runtime needs before touching anything. */
public final class Privileges {
    /** CAP_NET_ADMIN is capability 12; CAP_SYS_ADMIN (21) is needed for `ip netns add`. */
    private static final long NET_ADMIN = 1L << 12;
    private static final long SYS_ADMIN = 1L << 21;

    private Privileges() {
    }

    public static boolean hasNetAdmin() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & NET_ADMIN) != 0 && (caps & SYS_ADMIN) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    public static void requireNetAdmin(String what) {
        if (!hasNetAdmin()) {
            throw new LabException(what + " creates network namespaces and devices: it needs root"
                    + " (CAP_NET_ADMIN and CAP_SYS_ADMIN). Run it with sudo.");
        }
    }
}
