package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `cardnet bench sendfile` as a user runs it, on a small matrix: it must produce the JSON, the Markdown and the PNG,
 * with every reference (veth and the TUN relay, each with iperf3's figure and the "tool was the limit" flag), every
 * transfer must pass its check (CRC32C for timed runs, SHA-256 for each series' first), and the labs, the veth
 * pair and the relay must leave nothing behind. Speed is reported, never asserted.
 */
class BenchIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aSmallSendfileMatrixWritesJsonMarkdownAndAChart(@TempDir Path out) throws Exception {
        RootRequired.check();
        RootRequired.requireTool("iperf3");
        CardnetCli.Run run = CardnetCli.run("bench", "sendfile", "--mtu", "1500,65535", "--size", "16M",
                "--runs", "1", "--warmup", "1", "--out", out.toString());
        System.out.println(run.out());
        assertEquals(0, run.exit(), run.err());

        Path dir;
        try (Stream<Path> s = Files.list(out)) {
            dir = s.findFirst().orElseThrow();
        }
        JsonNode report = JSON.readTree(dir.resolve("results.json").toFile());
        assertEquals("crc32c", report.path("verify").asText(), "timed runs are checked with CRC32C by default");
        assertTrue(report.path("integrity").asText().contains("SHA-256"), report.path("integrity").toString());
        assertEquals(2, report.path("cases").size());
        for (JsonNode c : report.path("cases")) {
            assertTrue(c.path("intact").asBoolean(), "a timed transfer failed its check: " + c);
            assertTrue(c.path("sha256Ok").asBoolean(), "the case's SHA-256 transfer failed: " + c);
            for (JsonNode r : c.path("runs")) {
                assertEquals("crc32c", r.path("check").asText(), r.toString());
                assertEquals(r.path("expected").asText(), r.path("received").asText(), "both ends' values: " + r);
            }
            assertTrue(c.path("medianGbps").asDouble() > 0, c.toString());
            assertTrue(c.path("vethGbps").asDouble() > 0, "no veth baseline for " + c);
            assertTrue(c.path("relayGbps").asDouble() > 0, "no TUN-relay figure for " + c);
            assertTrue(c.path("ratioToRelay").asDouble() > 0, c.toString());
            assertTrue(c.path("toolLimited").isBoolean(), "no 'tool was the limit' flag: " + c);
            assertTrue(c.path("kernelCpuSecondsPerGiB").asDouble() >= 0, c.toString());
        }
        assertEquals(2, report.path("baselines").size(), "one veth baseline per MTU");
        for (JsonNode v : report.path("baselines")) {
            assertEquals("veth", v.path("name").asText());
            assertTrue(v.path("iperf3Gbps").asDouble() > 0, "no iperf3 figure over the veth: " + v);
            assertTrue(v.path("toolLimited").isBoolean(), v.toString());
            assertTrue(v.path("busyCores").asDouble() > 0, v.toString());
            assertTrue(v.path("sha256Ok").asBoolean(), v.toString());
        }
        assertEquals(2, report.path("relays").size(), "one TUN relay per case setting (both MTUs)");
        for (JsonNode r : report.path("relays")) {
            assertEquals("tun-relay", r.path("name").asText());
            assertTrue(r.path("medianGbps").asDouble() > 0 && r.path("iperf3Gbps").asDouble() > 0, r.toString());
            assertTrue(r.path("relayCpu").asDouble() > 0, "the relay thread's CPU share is missing: " + r);
            assertTrue(r.path("toolLimited").isBoolean() && r.path("sha256Ok").asBoolean(), r.toString());
        }
        JsonNode toe0 = report.path("iperf3");
        assertTrue(toe0.path("gbps").asDouble() > 0 && toe0.path("relayGbps").asDouble() > 0, toe0.toString());

        String md = Files.readString(dir.resolve("results.md"));
        List<String> rows = md.lines().filter(l -> l.startsWith("| 1500 ") || l.startsWith("| 65535 ")).toList();
        assertEquals(2, rows.size(), md);
        assertTrue(rows.stream().allMatch(r -> r.endsWith("| equal | equal |")), md);
        assertTrue(md.contains("| veth | 1500 |") && md.contains("| tun-relay | 65535 |"), md);
        assertTrue(md.contains("iperf3 -Z over toe0"), md);

        BufferedImage png = ImageIO.read(dir.resolve("goodput.png").toFile());
        assertNotNull(png, "goodput.png is not an image");
        assertTrue(png.getWidth() >= 800 && png.getHeight() >= 600);

        for (String ns : List.of("cardnet-benchuo-card", "cardnet-benchuo-host", "cardnet-bench-veth-a",
                "cardnet-bench-veth-b", "cardnet-bench-relay-a", "cardnet-bench-relay-b")) {
            assertTrue(!Files.exists(Path.of("/run/netns", ns)), ns + " was left behind");
        }
        TestLab.assertNothingLeft("benchuo", List.of());
    }

    @Test
    void latencyReportsPercentilesForBothPathsAndEachSize(@TempDir Path out) throws Exception {
        RootRequired.check();
        // with adaptive polling, so its path (bus threads looking at ring and TUN instead of sleeping) runs on real
        // TUNs; every other lab test runs without it
        CardnetCli.Run run = CardnetCli.run("bench", "latency", "--size", "64,65536", "--count", "200",
                "--warmup", "100", "--busy-poll", "200", "--out", out.toString(), "--json");
        assertEquals(0, run.exit(), run.err());
        JsonNode report = JSON.readTree(run.out());
        assertEquals(200, report.path("busyPollMicros").asInt(), run.out());
        for (String path : List.of("card", "veth")) {
            assertEquals(2, report.path(path).size(), run.out());
            for (JsonNode s : report.path(path)) {
                double p50 = s.path("p50").asDouble();
                assertTrue(p50 > 0 && s.path("p99").asDouble() >= p50 && s.path("max").asDouble() >= s.path("p99").asDouble(),
                        "percentiles out of order: " + s);
            }
        }
        assertTrue(report.path("ratios").path("64").asDouble() > 0);
        // the real ping, to the card and over veth, 10 ms apart and back to back
        assertEquals(4, report.path("ping").size(), run.out());
        for (JsonNode s : report.path("ping")) {
            assertEquals(200, s.path("count").asInt(), s.toString());
            assertTrue(s.path("p50").asDouble() > 0 && s.path("p99").asDouble() >= s.path("p50").asDouble(), s.toString());
        }
        assertTrue(report.path("pingRatios").path("10 ms apart").asDouble() > 0, run.out());
        Path dir;
        try (Stream<Path> s = Files.list(out)) {
            dir = s.findFirst().orElseThrow();
        }
        String md = Files.readString(dir.resolve("latency.md"));
        assertTrue(md.contains("| 65536 | card |") && md.contains("| 10 ms apart | card |"), md);
        assertTrue(md.contains("adaptive polling up to 200 µs"), md);
        assertTrue(Files.exists(dir.resolve("latency.json")));
        TestLab.assertNothingLeft("benchlat", List.of());
        assertTrue(!Files.exists(Path.of("/run/netns", "cardnet-bench-veth-a")), "the veth baseline was left behind");
    }

    /**
     * {@code --lab NAME} measures in a lab the user already runs: a paced card→host case gets the model's prediction,
     * and the lab's MTU and link model are what they were before, afterwards.
     */
    @Test
    void benchInARunningLabGivesCardToHostPredictionsAndPutsTheLabBack(@TempDir Path out) throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            io.cardnet.lab.runtime.Shell.ipIn(t.hostNs(), "link", "set", "dev", "toe0", "mtu", "9000");
            t.lab.setLinkModel("gen3x4");
            CardnetCli.Run run = CardnetCli.run("bench", "sendfile", "--lab", t.name, "--link", "gen2x1",
                    "--direction", "c2h", "--size", "16M", "--runs", "1", "--warmup", "0", "--out", out.toString(),
                    "--json");
            assertEquals(0, run.exit(), run.err());
            JsonNode c = JSON.readTree(run.out()).path("cases").path(0);
            assertTrue(c.path("sha256Ok").asBoolean(), c.toString());
            assertEquals("c2h", c.path("config").path("direction").asText(), c.toString());
            double predicted = c.path("predictedGbps").asDouble();
            assertTrue(predicted > 3 && predicted < 4, "gen2x1 allows about 3.6 Gb/s of TCP payload, the model said " + c);
            assertEquals("gen3x4", t.lab.linkModel());
            assertTrue(io.cardnet.lab.runtime.Shell.ipIn(t.hostNs(), "-o", "link", "show", "dev", "toe0").contains(" mtu 9000 "));

            CardnetCli.Run refused = CardnetCli.run("bench", "sendfile", "--lab", t.name, "--csum", "verify");
            assertEquals(1, refused.exit(), refused.err());
            assertTrue(refused.err().contains("runs checksums unnecessary"), refused.err());
        }
    }
}
