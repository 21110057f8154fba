package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.Component;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14's soak in CI: `cardnet soak --duration 2m` on an isolated lab, as a user runs it. Every TCP flow arrives
 * whole, every process's resources stay flat by the report's own criteria, every WARN/ERROR line is one the soak
 * caused, and the lab is as it was (settings, faults) and leaves nothing behind when it goes.
 */
class SoakIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void twoMinutesOfTrafficFlapsFaultsAndARestartLoseNothingAndGrowNothing(@TempDir Path out) throws Exception {
        try (TestLab t = TestLab.up(c -> c)) {
            JsonNode settingsBefore = t.link("op", "show").path("settings");
            long cardBefore = t.pid(Component.CARD_NODE);
            CardnetCli.Run run = CardnetCli.run(Duration.ofMinutes(4), "soak", "--lab", t.name, "--duration", "2m",
                    "--out", out.toString(), "--json");
            System.out.println(run.err());
            JsonNode r = JSON.readTree(run.out());
            Files.list(out).findFirst().ifPresent(dir -> {
                try {
                    System.out.println(Files.readString(dir.resolve("soak.md")));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });

            // the disturbances happened: 4 flaps for 2 minutes, a restart, a capture that saw packets, settings
            String events = r.path("events").toString();
            long flaps = 0;
            for (JsonNode e : r.path("events")) {
                flaps += e.path("kind").asText().equals("link flap") ? 1 : 0;
            }
            assertEquals(4, flaps, "20 flaps per 10 minutes, scaled to 2: " + events);
            assertTrue(events.contains("card restart") && events.contains("capture stopped")
                    && events.contains("--model gen3x4") && events.contains("fault drop"), events);
            t.lab.refresh(); // the soak's process restarted card-node and recorded its new pid
            assertTrue(t.pid(Component.CARD_NODE) != cardBefore, "card-node was not restarted");
            assertTrue(events.matches(".*[1-9][0-9,]* packets captured.*"), "the capture saw no packet: " + events);

            // 0 bytes lost: every flow, both routed directions and each card-node life's flow, SHA-256 equal
            Set<String> names = new HashSet<>();
            for (JsonNode f : r.path("flows")) {
                names.add(f.path("name").asText());
                assertTrue(f.path("bytesSent").asLong() > 0, f.toString());
                assertEquals(f.path("bytesSent").asLong(), f.path("bytesReceived").asLong(), "bytes lost: " + f);
                assertTrue(f.path("sha256Equal").asBoolean(), "SHA-256 differs: " + f);
            }
            assertTrue(names.contains("host→wire (routed by the card)") && names.contains("wire→host (routed by the card)")
                    && names.contains("host→card sink #2"), names.toString());

            // pings: sent and answered; the losses there were, the soak's disturbances explain
            JsonNode pings = r.path("pings");
            assertTrue(pings.path("sent").asLong() > 1000 && pings.path("received").asLong() > 1000, pings.toString());

            // resources flat for every process (card-node's new pid included), by the report's own verdicts
            Set<String> judged = new HashSet<>();
            for (JsonNode trend : r.path("resources")) {
                assertFalse(trend.path("verdict").asText().startsWith("GROWING"), "grows: " + trend);
                if (trend.path("verdict").asText().equals("flat")) {
                    judged.add(trend.path("component").asText());
                }
            }
            assertEquals(Set.of("pci-link-sim", "host-bridge", "card-node"), judged);
            assertTrue(r.path("samples").size() >= 30, "a sample of 3 processes every 10 s: " + r.path("samples").size());

            // no log line the soak did not cause
            assertEquals(0, r.path("logs").path("unexplained").size(), r.path("logs").toString());

            for (JsonNode g : r.path("goals")) {
                assertTrue(!g.path("required").asBoolean() || g.path("met").asBoolean(), "goal not met: " + g);
            }
            assertEquals(0, run.exit(), run.err());

            // the lab as it was: faults cleared, model and coalescing put back, the link up
            JsonNode settingsAfter = t.link("op", "show").path("settings");
            assertEquals(settingsBefore, settingsAfter);
            assertTrue(t.lab.hostCarrier());
            assertTrue(t.hostToCard(8L << 20).intact(), "traffic after the soak");
        }
    }
}
