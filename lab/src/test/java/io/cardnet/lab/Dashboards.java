package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grafana cannot run here, so its files are checked the way Grafana would use them: the provisioned datasource's
 * uid is the one every panel names, and every panel's query, sent to the lab's real Prometheus, returns data.
 */
final class Dashboards {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Dashboards() {
    }

    static void assertEveryPanelHasData(String prometheus, Path grafana) throws Exception {
        assertEveryPanelHasData(prometheus, grafana, null);
    }

    /**
     * As Grafana shows the dashboards with their {@code card} variable on {@code card} (null: All): every panel's
     * query, with the variable put in as Grafana would, returns data of that card.
     */
    static void assertEveryPanelHasData(String prometheus, Path grafana, String card) throws Exception {
        awaitTargetsUp(prometheus, card);
        Map<String, Object> ds = new Yaml().load(Files.readString(grafana.resolve("provisioning/datasources/prometheus.yaml")));
        @SuppressWarnings("unchecked")
        String uid = (String) ((List<Map<String, Object>>) ds.get("datasources")).getFirst().get("uid");
        List<Path> boards;
        try (Stream<Path> s = Files.list(grafana.resolve("dashboards"))) {
            boards = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(3, boards.size(), "the bus, the card and the host bridge: " + boards);
        int queries = 0;
        List<String> empty = new ArrayList<>();
        for (Path board : boards) {
            JsonNode json = JSON.readTree(board.toFile());
            JsonNode variable = json.path("templating").path("list").path(0);
            assertEquals("card", variable.path("name").asText(), board + " has no `card` variable");
            assertEquals(uid, variable.path("datasource").path("uid").asText(), board + ": the card variable's datasource");
            JsonNode panels = json.path("panels");
            assertTrue(panels.size() > 0, board + " has no panels");
            for (JsonNode panel : panels) {
                assertEquals(uid, panel.path("datasource").path("uid").asText(), board + ": " + panel.path("title"));
                for (JsonNode target : panel.path("targets")) {
                    assertEquals(uid, target.path("datasource").path("uid").asText(), board + ": " + panel.path("title"));
                    queries++;
                    String expr = target.path("expr").asText().replace("$card", card == null ? ".+" : card);
                    if (!hasData(prometheus, expr, Duration.ofSeconds(30))) {
                        empty.add(board.getFileName() + " / " + panel.path("title").asText() + ": " + expr);
                    }
                }
            }
        }
        assertEquals(List.of(), empty, "panels whose query returned no data from the lab's Prometheus");
        System.out.println("Prometheus answered all " + queries + " panel queries of " + boards.size() + " dashboards"
                + (card == null ? "" : " for card " + card));
    }

    /** Every cardnet process (of {@code card}, if not null) is a scrape target, and up. */
    private static void awaitTargetsUp(String prometheus, String card) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = query(prometheus, card == null ? "up" : "up{card=\"" + card + "\"}");
            List<String> up = new ArrayList<>();
            for (JsonNode r : last.path("data").path("result")) {
                if (r.path("value").path(1).asText().equals("1")) {
                    up.add(r.path("metric").path("job").asText());
                }
            }
            if (up.containsAll(List.of("pci-link-sim", "host-bridge", "card-node"))) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("not every cardnet target is up in Prometheus: " + last);
    }

    private static boolean hasData(String prometheus, String expr, Duration patience) throws Exception {
        long deadline = System.nanoTime() + patience.toNanos();
        do {
            JsonNode r = query(prometheus, expr);
            assertEquals("success", r.path("status").asText(), "Prometheus refused " + expr + ": " + r);
            JsonNode result = r.path("data").path("result");
            for (JsonNode series : result) {
                String v = series.path("value").path(1).asText();
                if (!v.equals("NaN")) {
                    return true;
                }
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        return false;
    }

    static JsonNode query(String prometheus, String expr) throws IOException, InterruptedException {
        URI uri = URI.create(prometheus + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertFalse(r.body().isBlank(), "empty answer from " + uri);
        return JSON.readTree(r.body());
    }
}
