package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.ComposeProject;
import io.cardnet.lab.runtime.ExecResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `cardnet lab up --runtime compose --cards 2`: two card containers, each with its own link in the one pci-link
 * container and its own toeK in the host container. Both answer from the host container with SHA-256-checked
 * transfers, card 1 routes to its own wire network, `lab status`, `link show --card 1` and `card exec --card 1` see
 * card 1, a capture of card 1's link holds card 1's packets only (tshark), Prometheus scrapes card 1's processes with
 * card="1" and its counters count card 1's transfer, every dashboard panel has data for card 1, and `lab down`
 * leaves no container, network or volume of the project.
 */
class ComposeCardsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROJECT = "cardnetcardsit";
    private static final String PROMETHEUS = "http://127.0.0.1:9090";
    private static final long CARD0_BYTES = 32L << 20;
    private static final long CARD1_BYTES = 256L << 20;

    @Test
    void twoCardsEachItsOwnContainerLinkAndCounters(@TempDir Path tmp) throws Exception {
        DockerRequired.check();
        long t0 = System.nanoTime();
        CardnetCli.Run up = CardnetCli.run(Map.of("PROMETHEUS_IMAGE", "cardnet/prometheus:latest"), Duration.ofMinutes(5),
                "lab", "up", "--runtime", "compose", "--cards", "2", "--project", PROJECT, "--file",
                ComposeLab.COMPOSE.toString(), "--json");
        try {
            assertEquals(0, up.exit(), up.err() + up.out());
            System.out.printf("compose lab with 2 cards up (health-gated) in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            JsonNode status = JSON.readTree(up.out());
            assertEquals(2, status.path("cards").size(), status.toPrettyString());
            assertEquals("198.18.2.1/30", status.path("cards").path(1).path("addresses").path("host").asText());
            // up returned on health (toeK and host0 had carrier); a loaded machine may retrain a link right after, so
            // `lab status` is asked until it has both links up, within a deadline
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            CardnetCli.Run st;
            do {
                st = CardnetCli.run("lab", "status", "--runtime", "compose", "--project", PROJECT, "--json");
            } while (st.exit() != 0 && System.nanoTime() < deadline);
            assertEquals(0, st.exit(), "lab status did not see both cards' links up: " + st.out() + st.err());
            for (JsonNode c : JSON.readTree(st.out()).path("cards")) {
                assertEquals("UP", c.path("linkState").asText(), c.toPrettyString());
                assertTrue(c.path("carrier").asBoolean(), c.toPrettyString());
            }

            // card 1 is its own container, with its own addresses
            CardnetCli.Run exec = CardnetCli.run("card", "exec", "--runtime", "compose", "--project", PROJECT, "--card", "1",
                    "--", "ip", "-br", "addr");
            assertEquals(0, exec.exit(), exec.err());
            assertTrue(exec.out().contains("198.18.2.2/30") && exec.out().contains("198.18.3.2/")
                    && !exec.out().contains("198.18.0.2"), exec.out());
            String toes = host("ip", "-br", "link");
            assertTrue(toes.contains("toe0") && toes.contains("toe1"), "the host container has both toes: " + toes);

            // both cards answer across their own links; card 1 also routes to its own wire network
            host("ping", "-c", "2", "-W", "2", "198.18.0.2");
            host("ping", "-c", "2", "-W", "2", "198.18.2.2");
            sendAndCheck("198.18.0.2:9", CARD0_BYTES);
            sendAndCheck("198.18.2.2:9", CARD1_BYTES);
            sendAndCheck("198.18.3.1:5001", 64L << 20);

            captureOfCardOneHoldsOnlyCardOne(tmp.resolve("card1.pcapng"));

            CardnetCli.Run show = CardnetCli.run("link", "show", "--runtime", "compose", "--project", PROJECT, "--card",
                    "1", "--json");
            assertEquals(0, show.exit(), show.err());
            JsonNode link1 = JSON.readTree(show.out()).path("status");
            assertEquals("UP", link1.path("state").asText(), show.out());
            // the simulator's own counters of card 1's link: card 1's transfer, not card 0's
            long h2c1 = link1.path("traffic").path("h2c").path("bytes").asLong();
            System.out.printf("link show --card 1: h2c %,d bytes%n", h2c1);
            assertTrue(h2c1 >= CARD1_BYTES, "card 1's link counted " + h2c1 + " bytes h2c");
            CardnetCli.Run none = CardnetCli.run("link", "show", "--runtime", "compose", "--project", PROJECT, "--card", "2");
            assertEquals(1, none.exit());
            assertTrue(none.err().contains("has 2 cards (--card 0..1)"), none.err());

            perCardCountersInPrometheus();
            Dashboards.assertEveryPanelHasData(PROMETHEUS, Path.of("..", "grafana"), "1");

            CardnetCli.Run text = CardnetCli.run("lab", "status", "--runtime", "compose", "--project", PROJECT);
            System.out.print(text.out());
            assertTrue(text.out().contains("toe1") && text.out().contains("198.18.3.2/24"), text.out() + text.err());
        } finally {
            CardnetCli.Run down = CardnetCli.run(Duration.ofMinutes(3), "lab", "down", "--runtime", "compose", "--project",
                    PROJECT);
            if (down.exit() != 0) {
                // a lab that never came up: make sure of it with compose's own down
                DockerRequired.ok("docker", "compose", "-p", PROJECT, "-f", ComposeLab.COMPOSE.toString(), "down", "-v");
            }
            ComposeLab.assertNothingLeft(PROJECT);
            assertFalse(Files.exists(ComposeProject.stateDir(PROJECT)), "the generated override outlived the lab");
            assertEquals(0, down.exit(), down.err());
        }
    }

    /** `cardnet tool send` from the host container, SHA-256 checked by the sink at the far end. */
    private static void sendAndCheck(String to, long size) throws Exception {
        String r = host("cardnet", "tool", "send", "--to", to, "--size", Long.toString(size), "--verify", "sha256");
        assertTrue(r.contains(String.format("%,d bytes", size)) && r.contains("sha256") && r.contains("sink agrees"), r);
        System.out.println("host container → " + r.strip());
    }

    /**
     * A capture of card 1's link, stopped after 20 packets, while both cards are pinged: every packet is card 1's.
     * The pings repeat until the capture has its packets, so nothing depends on how fast the capture attaches.
     */
    private static void captureOfCardOneHoldsOnlyCardOne(Path pcap) throws Exception {
        CompletableFuture<CardnetCli.Run> capture = CompletableFuture.supplyAsync(() -> {
            try {
                return CardnetCli.run(Duration.ofSeconds(90), "link", "capture", "--runtime", "compose", "--project",
                        PROJECT, "--card", "1", "-w", pcap.toString(), "--count", "20");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!capture.isDone() && System.nanoTime() < deadline) {
            host("sh", "-c", "ping -c 5 -i 0.2 198.18.0.2 >/dev/null & ping -c 5 -i 0.2 198.18.2.2 >/dev/null; wait");
        }
        CardnetCli.Run r = capture.get();
        assertEquals(0, r.exit(), r.err());
        ExecResult t = ExecResult.run(List.of("tshark", "-r", pcap.toString(), "-T", "fields", "-e", "ip.src", "-e",
                "ip.dst"), Duration.ofSeconds(60));
        assertEquals(0, t.exitCode(), t.output());
        List<String> packets = t.stdout().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(20, packets.size(), t.stdout());
        List<String> foreign = new ArrayList<>();
        for (String p : packets) {
            for (String ip : p.split("\\s+")) {
                if (!ip.equals("198.18.2.1") && !ip.equals("198.18.2.2")) {
                    foreign.add(p);
                }
            }
        }
        assertEquals(List.of(), foreign, "card 1's capture holds packets that are not card 1's");
        System.out.println("card 1's capture: " + packets.size() + " packets, all between toe1 and card 1's host0");
    }

    /**
     * Prometheus scrapes all three processes of card 1 with card="1", and card 1's host-bridge and card-node counted
     * card 1's transfer while card 0's counted only its own.
     */
    private static void perCardCountersInPrometheus() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode up;
        double toe1;
        double toe0;
        double sink1;
        do {
            up = Dashboards.query(PROMETHEUS, "up{card=\"1\"} == 1");
            toe1 = value(PROMETHEUS, "sum(cardnet_tun_bytes_total{job=\"host-bridge\", card=\"1\", device=\"toe1\", direction=\"h2c\"})");
            toe0 = value(PROMETHEUS, "sum(cardnet_tun_bytes_total{job=\"host-bridge\", card=\"0\", device=\"toe0\", direction=\"h2c\"})");
            sink1 = value(PROMETHEUS, "sum(cardnet_card_sink_bytes_total{card=\"1\"})");
            if (up.path("data").path("result").size() == 3 && toe1 >= CARD1_BYTES && toe0 >= CARD0_BYTES
                    && sink1 >= CARD1_BYTES) {
                break;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        List<String> jobs = new ArrayList<>();
        up.path("data").path("result").forEach(r -> jobs.add(r.path("metric").path("job").asText()));
        assertEquals(List.of("card-node", "host-bridge", "pci-link-sim"), jobs.stream().sorted().toList(),
                "card 1's scrape targets up with card=\"1\"");
        System.out.printf("Prometheus: toe1 h2c %,.0f bytes, toe0 h2c %,.0f bytes, card 1's sink %,.0f bytes%n", toe1, toe0,
                sink1);
        assertTrue(toe1 >= CARD1_BYTES && sink1 >= CARD1_BYTES, "card 1 counted " + toe1 + " / " + sink1);
        // card 0 carried its own 32 MiB (and pings), never card 1's 256 MiB
        assertTrue(toe0 >= CARD0_BYTES && toe0 < CARD1_BYTES, "card 0's host-bridge counted " + toe0);
    }

    private static double value(String prometheus, String expr) throws Exception {
        JsonNode r = Dashboards.query(prometheus, expr).path("data").path("result");
        return r.isEmpty() ? 0 : r.path(0).path("value").path(1).asDouble();
    }

    /** stdout and stderr of a command that must succeed in the project's host container. */
    private static String host(String... command) throws Exception {
        List<String> ids = DockerRequired.lines("ps", "-q", "--filter", "label=com.docker.compose.project=" + PROJECT,
                "--filter", "label=com.docker.compose.service=host");
        assertEquals(1, ids.size(), "running host containers of " + PROJECT + ": " + ids);
        List<String> cmd = new ArrayList<>(List.of("docker", "exec", ids.getFirst()));
        cmd.addAll(List.of(command));
        ExecResult r = ExecResult.run(cmd, Duration.ofSeconds(120));
        assertEquals(0, r.exitCode(), String.join(" ", command) + " in the host container failed: " + r.output());
        return r.stdout() + r.stderr();
    }
}
