package io.cardnet.lab.bench;

import io.cardnet.lab.runtime.Shell;

import java.io.IOException;

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
            BenchNamespaces.create(A, B);
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
        BenchNamespaces.remove(A, B);
    }
}
