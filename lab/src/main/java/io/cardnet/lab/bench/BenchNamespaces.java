package io.cardnet.lab.bench;

import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The pairs of namespaces a reference path (veth, TUN relay) runs between: made fresh with loopback up and the
 * lab's TCP buffer sizes, so a reference differs from the lab only in the path between the two ends.
 */
final class BenchNamespaces {
    private BenchNamespaces() {
    }

    /** Creates {@code names}, removing leftovers of an earlier run that died first. */
    static void create(String... names) throws IOException {
        for (String ns : names) {
            if (Files.exists(Path.of("/run/netns", ns))) {
                Shell.ip("netns", "del", ns);
            }
            Shell.ip("netns", "add", ns);
            Shell.ipIn(ns, "link", "set", "lo", "up");
            Lab.tuneTcpBuffers(ns);
        }
    }

    /** Removes {@code names} and whatever lives in them; says so on stderr if one cannot go, and goes on. */
    static void remove(String... names) {
        for (String ns : names) {
            try {
                if (Files.exists(Path.of("/run/netns", ns))) {
                    Shell.ip("netns", "del", ns);
                }
            } catch (IOException e) {
                System.err.println("cardnet: could not remove " + ns + ": " + e.getMessage());
            }
        }
    }
}
