package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `cardnet bench sendfile --target wire --via route,relay` as a user runs it, small: one row per way with every
 * transfer checked, the host's TCP segments per GiB showing the MSS each way ran at (routed: the wire's; relayed: the
 * bus's), the goal's verdict, and nothing left behind. Speed is reported, never asserted.
 */
class WireBenchIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double GIB = 1L << 30;

    @Test
    void routeAndRelayRowsWithTheirSegmentCounts(@TempDir Path out) throws Exception {
        RootRequired.check();
        CardnetCli.Run run = CardnetCli.run(java.time.Duration.ofMinutes(10), "bench", "sendfile", "--target", "wire",
                "--via", "route,relay", "--size", "16M", "--runs", "1", "--warmup", "1", "--out", out.toString());
        System.out.println(run.out());
        assertEquals(0, run.exit(), run.err());
        Path dir;
        try (Stream<Path> s = Files.list(out)) {
            dir = s.findFirst().orElseThrow();
        }
        assertTrue(Files.readString(dir.resolve("wire.md")).contains("| relay | 1500 |"), "wire.md lacks the relay row");
        assertTrue(javax.imageio.ImageIO.read(dir.resolve("wire.png").toFile()).getWidth() > 0, "wire.png is no image");
        JsonNode report = JSON.readTree(dir.resolve("wire.json").toFile());
        JsonNode rows = report.path("rows");
        assertEquals(2, rows.size(), rows.toString());
        for (JsonNode r : rows) {
            assertTrue(r.path("intact").asBoolean() && r.path("sha256Ok").asBoolean(), "a transfer failed its check: " + r);
            assertTrue(r.path("medianGbps").asDouble() > 0 && r.path("cardCpuSecondsPerGiB").asDouble() >= 0, r.toString());
        }
        JsonNode route = rows.get(0);
        JsonNode relay = rows.get(1);
        assertEquals("route", route.path("via").asText());
        assertEquals("relay", relay.path("via").asText());
        // Routed, the host's TCP runs at the wire's MSS (1448 bytes of payload with timestamps): at least GiB/1460
        // segments per GiB. Relayed, it runs at the bus's: far fewer.
        assertTrue(route.path("hostSegmentsPerGiB").asDouble() >= GIB / 1460, route.toString());
        assertTrue(relay.path("hostSegmentsPerGiB").asDouble() < GIB / 1460 / 10, relay.toString());
        // the acknowledgements the host's TCP took in, and host-bridge's share of the work, are in every row
        assertTrue(route.path("hostInSegmentsPerGiB").asDouble() > 0 && relay.path("hostInSegmentsPerGiB").asDouble() > 0,
                rows.toString());
        assertTrue(route.has("bridgeKernelSecondsPerGiB") && relay.has("bridgeCpuSecondsPerGiB"), rows.toString());
        assertTrue(report.path("goal").path("verdict").asText().matches("(met|not met): .*"), report.path("goal").toString());
        for (String lab : new String[]{"benchwroute", "benchwrelay"}) {
            TestLab.assertNothingLeft(lab, java.util.List.of());
        }
    }
}
