package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.link.port.ChecksumMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The design's central claim, shown on the real host kernel: the simulator flips the TCP checksum of every
 * 10th TCP packet toward the host. With the default (checksum-unnecessary) the host accepts them all —
 * nothing in its TCP counters, data intact. With --csum verify the host verifies, drops exactly those
 * packets and counts each one in TcpInCsumErrors; TCP retransmits and the data still arrives.
 */
class ChecksumSemanticsIT {
    private static final long SIZE = 32L << 20;
    private static final int EVERY = 10;

    private TestLab current;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> current);

    @Test
    void checksumUnnecessaryHostAcceptsCorruptedChecksums() throws Exception {
        Outcome o = transferCardToHostWithCorruption(ChecksumMode.UNNECESSARY);
        assertTrue(o.corrupted > 0, "the test switch corrupted nothing");
        assertEquals(0, o.hostCsumErrors, "a trusting host must not verify, yet it counted checksum errors");
        assertTrue(o.dataEqual, "data differs");
    }

    @Test
    void verifyingHostDropsCorruptedChecksumsAndCountsThem() throws Exception {
        Outcome o = transferCardToHostWithCorruption(ChecksumMode.VERIFY);
        assertTrue(o.corrupted > 0, "the test switch corrupted nothing");
        assertEquals(o.corrupted, o.hostCsumErrors,
                "every corrupted packet should be dropped by the verifying host and counted in TcpInCsumErrors");
        assertTrue(o.dataEqual, "TCP should retransmit the dropped segments; data differs");
    }

    private record Outcome(long corrupted, long hostCsumErrors, boolean dataEqual) {
    }

    private Outcome transferCardToHostWithCorruption(ChecksumMode mode) throws Exception {
        try (TestLab t = TestLab.up(c -> c.withCsum(mode).withCorruptEvery(EVERY))) {
            current = t;
            long errorsBefore = tcpCounter(t.hostNs(), "InCsumErrors");
            long corruptedBefore = t.lab.linkStatus().path("corruptedChecksums").asLong();
            TestLab.Transfer x = t.cardToHost(SIZE, 5003);
            JsonNode status = t.lab.linkStatus();
            long corrupted = status.path("corruptedChecksums").asLong() - corruptedBefore;
            long errors = tcpCounter(t.hostNs(), "InCsumErrors") - errorsBefore;
            System.out.printf("--csum %s: simulator corrupted %d TCP checksums toward the host; host TcpInCsumErrors +%d;"
                    + " %d bytes at %.2f Gb/s, crc32c %s%n", mode.name().toLowerCase(), corrupted, errors,
                    x.received().bytes(), x.sent().gbps(), x.intact() ? "equal" : "DIFFERENT");
            current = null;
            return new Outcome(corrupted, errors, x.intact());
        }
    }

    /** A TCP MIB counter of a namespace, from its /proc/net/snmp (per-namespace). */
    static long tcpCounter(String ns, String name) throws Exception {
        String snmp = TestLab.exec(ns, "cat", "/proc/net/snmp").output();
        List<String> tcp = snmp.lines().filter(l -> l.startsWith("Tcp:")).toList();
        String[] keys = tcp.get(0).split("\\s+");
        String[] values = tcp.get(1).split("\\s+");
        for (int i = 1; i < keys.length; i++) {
            if (keys[i].equals(name)) {
                return Long.parseLong(values[i]);
            }
        }
        throw new IllegalStateException("no Tcp " + name + " in /proc/net/snmp of " + ns);
    }
}
