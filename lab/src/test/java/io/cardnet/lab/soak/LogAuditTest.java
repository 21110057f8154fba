package io.cardnet.lab.soak;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogAuditTest {
    private static final List<SoakReport.Event> EVENTS = List.of(
            new SoakReport.Event("link flap 1000 ms", "link flap", 10_000, 11_200, -1, null),
            new SoakReport.Event("card restart", "card restart", 30_000, 33_000, -1, null));

    @Test
    void aLinkLineInAFlapsWindowIsExplainedAndTheSameLineLaterIsNot() {
        var r = LogAudit.classify(List.of(
                line(10_100, "WARN BusPort - link down: link flap (injected): retraining in 1000 ms"),
                line(10_600, "WARN BusPort - the bus has been silent for 500 ms (5 missed heartbeats); reconnecting"),
                line(50_000, "WARN BusPort - link down: endpoint (card) went away: missed heartbeats")), EVENTS);
        assertEquals(3, r.total());
        assertEquals(2, r.explained());
        assertEquals(Map.of("link flap", 2), r.byCause());
        assertEquals(50_000, r.unexplained().getFirst().atMillis());
    }

    @Test
    void anErrorOrAnUnrelatedWarningIsNeverExplained() {
        var r = LogAudit.classify(List.of(
                line(10_100, "ERROR DmaEngine - h2c: a single-bit flip escaped the link CRC; this should be impossible"),
                line(10_100, "WARN PortHandler - card port: dropped a malformed frame: bad length")), EVENTS);
        assertEquals(2, r.unexplained().size());
    }

    @Test
    void aNotificationOfThePreviousEpochInARetrainsWindowIsExplainedAnOlderOneIsNot() {
        String prefix = "WARN DmaEngine - h2c: refused an RX_DONE from the endpoint (card): ";
        var r = LogAudit.classify(List.of(
                line(11_300, prefix + "RX_DONE of epoch 14 while the link runs epoch 15; ignored"),
                line(11_300, prefix + "RX_DONE of epoch 3 while the link runs epoch 15; ignored"),
                line(60_000, prefix + "RX_DONE of epoch 14 while the link runs epoch 15; ignored")), EVENTS);
        assertEquals(1, r.explained(), r.unexplained().toString());
        assertEquals(Map.of("link flap", 1), r.byCause());
        assertTrue(r.unexplained().getFirst().text().contains("epoch 3 "), r.unexplained().toString());
    }

    @Test
    void aJvmStartingIsExplainedByTheCardsRestartOnly() {
        String mac = "WARN MacAddressUtil - Failed to find a usable hardware address from the network interfaces";
        var r = LogAudit.classify(List.of(line(31_000, mac), line(10_500, mac)), EVENTS);
        assertEquals(1, r.explained());
        assertEquals(10_500, r.unexplained().getFirst().atMillis());
    }

    @Test
    void onlyWhatTheLogsGotDuringTheSoakIsRead(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("sim.log");
        Files.writeString(log, stamp(-5_000) + " WARN BusPort - before the soak\n");
        LogAudit audit = new LogAudit(Map.of("pci-link-sim", log));
        long t0 = System.currentTimeMillis();
        Files.writeString(log, stamp(1_000) + " WARN BusPort - link down: during\n" + stamp(1_100)
                + " INFO Link - not a warning\n  at a.stack.Trace(Line.java:1)\n", java.nio.file.StandardOpenOption.APPEND);
        List<LogAudit.Line> lines = audit.linesSince(t0);
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.getFirst().text().endsWith("link down: during"));
        assertTrue(Math.abs(lines.getFirst().atMillis() - 1_000) < 2_000, lines.toString());
    }

    private static LogAudit.Line line(long at, String text) {
        return new LogAudit.Line("host-bridge", at, text);
    }

    private static String stamp(long fromNow) {
        return LocalDateTime.now(ZoneId.systemDefault()).plusNanos(fromNow * 1_000_000)
                .format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS"));
    }
}
