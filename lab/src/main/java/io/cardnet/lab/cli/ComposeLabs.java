package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.ComposeCards;
import io.cardnet.lab.runtime.ComposeProject;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.ExecResult;
import io.cardnet.lab.runtime.LabAddresses;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabNames;
import io.cardnet.netdev.Subprocess;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `cardnet lab up|status|down --runtime compose`: the compose lab (compose.yaml, plus {@link ComposeCards}' override
 * for several cards) started, shown and removed by the same commands as the embedded lab.
 */
final class ComposeLabs {
    private ComposeLabs() {
    }

    /** How long `up` waits after compose's health gate for every link to be up when asked. */
    private static final Duration SETTLE = Duration.ofSeconds(60);

    /** Which compose project, and (for `up`) which compose file. */
    static final class ProjectOptions {
        @Option(names = "--project", defaultValue = "cardnet",
                description = "With --runtime compose: the compose project (default: ${DEFAULT-VALUE}, compose.yaml's name).")
        String project;

        @Option(names = {"-f", "--file"}, defaultValue = "compose.yaml",
                description = "With --runtime compose: compose.yaml of the cardnet checkout (default: ${DEFAULT-VALUE}).")
        Path composeFile;
    }

    /** True for --runtime compose; netns and vm are the embedded lab's, anything else is refused by its parser. */
    static boolean isCompose(String runtime) {
        return "compose".equals(runtime);
    }

    /**
     * Brings the compose lab up with {@code cards} cards: {@code env} for compose (the link model, the upstream, the
     * firmware image). Prints what came up, as text or JSON.
     */
    static int up(ProjectOptions p, LabConfig.Cards cards, Map<String, String> env, boolean json) throws IOException {
        Map<String, String> e = new LinkedHashMap<>(env);
        prometheusImage(e);
        long t0 = System.nanoTime();
        ComposeProject lab = ComposeProject.up(p.project, p.composeFile, cards.count(), e, Output::progress);
        // compose's health gate saw every toe with carrier once; on a loaded machine the JVMs starting together can
        // still miss heartbeats and retrain a link just after, so up returns once every link is up when asked
        Map<String, Object> status = status(lab);
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!Boolean.TRUE.equals(status.get("allUp")) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                break;
            }
            status = status(lab);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!Boolean.TRUE.equals(status.get("allUp"))) {
            Output.progress("not every link is up " + SETTLE.toSeconds() + " s after compose's health gate; see the"
                    + " table, `cardnet lab status --runtime compose --project " + lab.project() + "` and `docker compose -p "
                    + lab.project() + " logs pci-link`");
        }
        if (json) {
            Output.json(System.out, status);
        } else {
            System.out.printf("compose lab %s up in %.1f s: %d %s%s%n", lab.project(), seconds, cards.count(),
                    cards.count() == 1 ? "card" : "cards", Boolean.TRUE.equals(status.get("allUp")) ? ", every link up" : "");
            System.out.print(describe(status));
            System.out.println("  down:    cardnet lab down --runtime compose --project " + lab.project()
                    + "   (or docker compose -p " + lab.project() + " " + lab.fileArgs() + " down -v)");
        }
        return Boolean.TRUE.equals(status.get("allUp")) ? 0 : 3;
    }

    /**
     * No registry is reachable on many lab machines: where compose.yaml's Prometheus image is missing but
     * images/build.sh's is there, that one is used (PROMETHEUS_IMAGE), and the user is told.
     */
    private static void prometheusImage(Map<String, String> env) throws IOException {
        if (env.containsKey("PROMETHEUS_IMAGE") || System.getenv("PROMETHEUS_IMAGE") != null) {
            return;
        }
        if (!hasImage("prom/prometheus:v2.53.0") && hasImage("cardnet/prometheus:latest")) {
            env.put("PROMETHEUS_IMAGE", "cardnet/prometheus:latest");
            Output.progress("prom/prometheus:v2.53.0 is not here; Prometheus runs from cardnet/prometheus:latest"
                    + " (images/build.sh's; PROMETHEUS_IMAGE picks another)");
        }
    }

    private static boolean hasImage(String image) throws IOException {
        return Subprocess.run(List.of("docker", "image", "inspect", image), Duration.ofSeconds(30)).exitCode() == 0;
    }

    /** Every card's containers, toeK carrier, link state and counters, addresses and /metrics. */
    static Map<String, Object> status(ComposeProject lab) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("project", lab.project());
        out.put("runtime", "compose");
        out.put("files", lab.files().stream().map(Path::toString).toList());
        String links = "";
        try {
            ExecResult ip = lab.exec("host", List.of("ip", "-o", "link", "show"), Duration.ofSeconds(20));
            links = ip.exitCode() == 0 ? ip.stdout() : "";
        } catch (IOException e) {
            out.put("hostError", e.getMessage()); // every toe then shows no carrier; the links still answer
        }
        List<Map<String, Object>> cards = new ArrayList<>();
        boolean allUp = true;
        for (int k = 0; k < lab.cards(); k++) {
            Map<String, Object> card = new LinkedHashMap<>();
            LabAddresses a = ComposeCards.addresses(k);
            card.put("card", k);
            card.put("container", ComposeCards.cardService(k));
            card.put("hostDevice", LabNames.hostDevice(k));
            card.put("addresses", Map.of("host", a.hostLink().toString(), "host0", a.cardLink().toString(),
                    "eth0", a.cardWire().toString(), "wirePeer", a.peerWire().toString()));
            boolean carrier = carrier(links, LabNames.hostDevice(k));
            card.put("carrier", carrier);
            try {
                JsonNode link = ControlClient.status(lab.controlSocket(k));
                card.put("linkState", link.path("state").asText());
                card.put("traffic", link.path("traffic"));
            } catch (IOException e) {
                card.put("linkError", e.getMessage());
            }
            allUp &= carrier && "UP".equals(card.get("linkState"));
            card.put("metrics", Map.of(
                    "sim", "http://198.19.200.250:" + ComposeCards.simMetricsPort(k) + "/metrics",
                    "host-bridge", "http://198.19.200.252:" + ComposeCards.hostBridgeMetricsPort(k) + "/metrics",
                    "card-node", "http://" + ComposeCards.cardMetricsAddress(k) + ":" + ComposeCards.CARD_METRICS_PORT
                            + "/metrics"));
            cards.add(card);
        }
        out.put("allUp", allUp);
        out.put("cards", cards);
        return out;
    }

    /** Whether `ip -o link show`'s line for {@code device} has carrier (LOWER_UP). */
    private static boolean carrier(String ipLinks, String device) {
        return ipLinks.lines().anyMatch(l -> l.contains(" " + device + ":") && l.contains("LOWER_UP"));
    }

    static String describe(Map<String, Object> status) {
        StringBuilder s = new StringBuilder();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cards = (List<Map<String, Object>>) status.get("cards");
        s.append(String.format("  %-5s %-8s %-5s %-15s %-17s %-15s %-7s %s%n", "card", "container", "dev", "host",
                "card host0", "card eth0", "link", "bytes h2c / c2h"));
        for (Map<String, Object> c : cards) {
            @SuppressWarnings("unchecked")
            Map<String, String> a = (Map<String, String>) c.get("addresses");
            JsonNode t = (JsonNode) c.get("traffic");
            String bytes = t == null ? "-" : String.format("%,d / %,d", t.path("h2c").path("bytes").asLong(),
                    t.path("c2h").path("bytes").asLong());
            s.append(String.format("  %-5s %-8s %-5s %-15s %-17s %-15s %-7s %s%n", c.get("card"), c.get("container"),
                    c.get("hostDevice") + (Boolean.TRUE.equals(c.get("carrier")) ? "" : "!"), a.get("host"),
                    a.get("host0"), a.get("eth0"), c.getOrDefault("linkState", "?"), bytes));
        }
        s.append("  reach:   docker compose -p ").append(status.get("project"))
                .append(" exec host ping 198.18.2.2   (card K's host0: 198.18.2K.2; its wire peer 198.18.(2K+1).1)\n");
        return s.toString();
    }

    static int status(ProjectOptions p, boolean json) throws IOException {
        ComposeProject lab = ComposeProject.attach(p.project);
        Map<String, Object> status = status(lab);
        if (json) {
            Output.json(System.out, status);
        } else {
            System.out.println("compose project " + lab.project() + ": " + lab.cards() + (lab.cards() == 1 ? " card" : " cards"));
            System.out.print(describe(status));
        }
        return Boolean.TRUE.equals(status.get("allUp")) ? 0 : 3;
    }

    static int down(ProjectOptions p, boolean json) throws IOException {
        ComposeProject lab = ComposeProject.attach(p.project);
        if (!json) {
            Output.progress("docker compose -p " + lab.project() + " " + lab.fileArgs() + " down -v");
        }
        lab.down();
        if (json) {
            Output.json(System.out, Map.of("project", lab.project(), "down", true));
        } else {
            System.out.println("compose project " + lab.project() + " is down: its containers, networks and volumes removed");
        }
        return 0;
    }

    /** Card {@code k}'s control socket in the running project (link show/set/fault/capture). */
    static Path controlSocket(String project, int k) throws IOException {
        return ComposeProject.attach(project).controlSocket(k);
    }

    /** `card exec --runtime compose --card K`: in card K's container. */
    static ExecResult execOnCard(String project, int k, List<String> argv, Duration timeout) throws IOException {
        ComposeProject lab = ComposeProject.attach(project);
        lab.requireCard(k);
        return lab.exec(ComposeCards.cardService(k), argv, timeout);
    }
}
