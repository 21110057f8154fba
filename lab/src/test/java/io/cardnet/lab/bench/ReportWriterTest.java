package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.link.port.ChecksumMode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's words and the series plan, without a lab: what a reader is told about checks and references. */
class ReportWriterTest {
    private static final BenchSpec SPEC = new BenchSpec(List.of(65535), List.of(true), List.of(ChecksumMode.UNNECESSARY),
            List.of("unlimited"), List.of("h2c"), 1 << 20, 3, 0, IntegrityCheck.CRC32C);

    @Test
    void everySeriesOpensWithOneUntimedSha256TransferEvenWithoutWarmUp() {
        assertEquals(4, SPEC.transfers());
        assertEquals(IntegrityCheck.SHA256, SPEC.check(0));
        assertFalse(SPEC.timed(0));
        for (int i = 1; i < SPEC.transfers(); i++) {
            assertTrue(SPEC.timed(i));
            assertEquals(IntegrityCheck.CRC32C, SPEC.check(i));
        }
    }

    @Test
    void aReferenceWhereTheToolLaggedIperf3IsSaidPlainly() {
        Results.Reference veth = reference("veth", 7.4, 10.3, true, null);
        Results.Reference relay = reference("tun-relay", 9.0, 9.5, false, 0.57);
        Results.Run run = new Results.Run(1 << 20, 0.01, 0.84, IntegrityCheck.CRC32C, "0000abcd", "0000abcd", true,
                0, 0, 0, 0, 0);
        Results.Case c = SendfileBench.summarize(SPEC.cases().getFirst(), List.of(run), null, veth, relay, true);
        assertTrue(c.toolLimited(), "a case inherits its MTU's veth verdict");
        assertEquals(0.84 / 9.0, c.ratioToRelay(), 1e-9);
        Results.Report report = new Results.Report("now", "test", 1 << 20, 1, 0, IntegrityCheck.CRC32C,
                SendfileBench.integrity(SPEC), List.of(c), List.of(veth), List.of(relay),
                new Results.Toe0Iperf3(6.0, 65535, ChecksumMode.UNNECESSARY, true, 9.5, 6.0 / 9.5, "iperf3 -Z"));

        String md = ReportWriter.markdown(report);
        assertTrue(md.contains("**The bench's sender or sink was the limit over veth at MTU 65535**"), md);
        assertFalse(md.contains("limit over tun-relay"), md);
        assertTrue(md.contains("| 65535 | on | unnecessary | unlimited | h2c | 0.84 (0.84–0.84) | 0.11 | 9.00 | 0.09 |"), md);
        assertTrue(md.contains("| **yes** | equal | equal |"), md);
        assertTrue(md.contains("| tun-relay | 65535 | unnecessary | on | 9.00 | 9.50 | 0.95 | 2.00 | 0.57 | no | equal |"), md);
        assertTrue(md.contains("the relay allows 9.50 (0.63×)"), md);
        assertTrue(md.contains("SHA-256-checked end to end"), md);
        assertTrue(ReferencePaths.describe("veth", 65535, 7.4, 10.3, 2.0, null, true).contains("WAS THE LIMIT"));
    }

    private static Results.Reference reference(String name, double bench, double iperf3, boolean toolLimited,
                                               Double relayCpu) {
        return new Results.Reference(name, 65535, ChecksumMode.UNNECESSARY, true, bench, List.of(), iperf3, toolLimited,
                2.0, relayCpu, true);
    }
}
