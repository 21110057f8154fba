package io.cardnet.lab.bench;

import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The baseline: two namespaces joined by a veth pair, the kernel-only path. It uses the same RFC 2544 range
 * (198.18.1.0/30) and the same TCP buffer sizes as the lab, and takes everything with it when closed.
 */
final class VethPair implements AutoCloseable {
    static final String A = "cardnet-bench-veth-a";
    static final String B = "cardnet-bench-veth-b";
    static final String ADDRESS_A = "198.18.1.1";
    static final String ADDRESS_B = "198.18.1.2";

    private VethPair() {
    }

    static VethPair up(int mtu) throws IOException {
        VethPair p = new VethPair();
        try {
            for (String ns : new String[]{A, B}) {
                if (Files.exists(Path.of("/run/netns", ns))) {
                    Shell.ip("netns", "del", ns);
                }
                Shell.ip("netns", "add", ns);
                Shell.ipIn(ns, "link", "set", "lo", "up");
                io.cardnet.lab.runtime.Lab.tuneTcpBuffers(ns);
            }
            Shell.ipIn(A, "link", "add", "v0", "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", "v1",
                    "mtu", Integer.toString(mtu), "netns", B);
            Shell.ipIn(A, "addr", "add", ADDRESS_A + "/30", "dev", "v0");
            Shell.ipIn(B, "addr", "add", ADDRESS_B + "/30", "dev", "v1");
            Shell.ipIn(A, "link", "set", "v0", "up");
            Shell.ipIn(B, "link", "set", "v1", "up");
            return p;
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (String ns : new String[]{A, B}) {
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
