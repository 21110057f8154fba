package io.cardnet.lab;

import io.cardnet.lab.runtime.ExecResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12's card services in the compose lab, one lab for all of them (firmware 1.0.0, CARD_RELAY=on,
 * CARDNET_EXPORT=a temporary directory): the SSH console with the key the keys service made for this lab (stock
 * OpenSSH in the host container: key login works, passwords are refused), the host's TCP to the wire relayed by the card (SHA-256 equal, the relay's counters move), and the card's
 * web server fed from host-bridge's export, fetched by curl on the wire (SHA-256 equal, 404 counted); and a drill to
 * 1.0.1 keeps the host key and all three services.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComposeServicesIT {
    private static final String CARD_METRICS = "198.19.200.251:9472";
    private static final long MIB = 1 << 20;

    private static Path export;
    private static ComposeLab lab;

    @BeforeAll
    static void up() throws Exception {
        DockerRequired.check();
        export = Files.createTempDirectory("cardnet-compose-export");
        Random r = new Random(12);
        byte[] big = new byte[(int) (3 * MIB + 17)];
        r.nextBytes(big);
        Files.write(export.resolve("big.bin"), big);
        Files.createDirectories(export.resolve("sub"));
        Files.writeString(export.resolve("sub/index.html"), "<p>served by the card, fed across the bus</p>\n");
        // the container's root reads them whatever this JVM's umask
        export.toFile().setReadable(true, false);
        export.toFile().setExecutable(true, false);
        lab = ComposeLab.up("cardnetsvc", Map.of("CARD_RELAY", "on", "CARDNET_EXPORT", export.toString()),
                List.of("card", "host"), "keys", "pci-link", "card", "host", "wire");
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (lab != null) {
                lab.close();
            }
        } finally {
            if (export != null) {
                try (var files = Files.walk(export)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @Test
    @Order(1)
    void theConsoleTakesTheLabsKeyAndRefusesPasswords() throws Exception {
        assertEquals("600", lab.run("host", "stat", "-c", "%a", "/console/id_ed25519").strip(),
                "the lab's private key is owner-only");
        // stock OpenSSH in the host container, as the README says: the session runs on the card, across the bus
        String addr = lab.run("host", "ssh", "-F", "/console/ssh_config", "card", "--", "ip", "-o", "addr");
        assertTrue(addr.contains("host0") && addr.contains("198.18.0.2/30"), addr);
        assertFalse(addr.contains("toe0"), "the command ran in the host container:\n" + addr);

        // the CLI's way: `cardnet card console --runtime compose`, the same ssh through docker exec
        CardnetCli.Run cli = CardnetCli.run("card", "console", "--runtime", "compose", "--project", lab.project,
                "--file", ComposeLab.COMPOSE.toString(), "--", "sh", "-c", "hostname; exit 7");
        assertEquals(7, cli.exit(), "the command's exit status comes back: " + cli.out() + cli.err());

        ExecResult password = lab.exec("host", "ssh", "-F", "/console/ssh_config",
                "-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no",
                "-o", "PasswordAuthentication=yes", "-o", "KbdInteractiveAuthentication=yes", "-o", "BatchMode=yes",
                "card", "true");
        assertEquals(255, password.exitCode(), password.stdout() + password.stderr());
        assertTrue(password.stderr().contains("Permission denied (publickey)"), password.stderr());
        String card = lab.metrics(CARD_METRICS);
        assertTrue(ComposeLab.sum(card, "cardnet_card_console_sessions_opened_total", "") >= 2, card);
    }

    @Test
    @Order(2)
    void theHostsTcpToTheWireIsRelayedByTheCard() throws Exception {
        String before = lab.metrics(CARD_METRICS);
        long size = 64 * MIB;
        String sent = lab.run("host", "cardnet", "tool", "send", "--to", "198.18.1.1:5001", "--size", "64M",
                "--verify", "sha256");
        assertTrue(sent.contains("sink agrees") && sent.contains("67,108,864 bytes"), sent);
        String after = lab.metrics(CARD_METRICS);
        double connections = ComposeLab.sum(after, "cardnet_card_relay_connections_total", "")
                - ComposeLab.sum(before, "cardnet_card_relay_connections_total", "");
        double fromHost = ComposeLab.sum(after, "cardnet_card_relay_bytes_total", "from=\"host\"")
                - ComposeLab.sum(before, "cardnet_card_relay_bytes_total", "from=\"host\"");
        assertTrue(connections >= 1, "the relay did not count the connection:\n" + after);
        assertTrue(fromHost >= size, "the relay moved " + fromHost + " of the host's " + size + " bytes");
        System.out.printf("compose relay: %s; relay connections +%.0f, bytes from the host +%.0f%n", sent.strip(),
                connections, fromHost);
    }

    @Test
    @Order(3)
    void theCardServesTheHostsExportOnTheWire() throws Exception {
        String before = lab.metrics(CARD_METRICS);
        for (String name : List.of("big.bin", "sub/index.html")) {
            for (String pass : List.of("cold", "warm")) {
                String status = lab.run("wire", "curl", "-sS", "--max-time", "60", "-o", "/tmp/fetched", "-w",
                        "%{http_code}", "http://198.18.1.2/" + name);
                assertEquals("200", status.strip(), name + " (" + pass + ")");
                String sum = lab.run("wire", "sha256sum", "/tmp/fetched").split(" ")[0];
                assertEquals(sha256(export.resolve(name)), sum, name + " (" + pass + ") SHA-256");
            }
        }
        String missing = lab.run("wire", "curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}",
                "http://198.18.1.2/no-such-file");
        assertEquals("404", missing.strip());
        String after = lab.metrics(CARD_METRICS);
        assertEquals(1, ComposeLab.sum(after, "cardnet_card_httpd_requests_total", "status=\"404\"")
                - ComposeLab.sum(before, "cardnet_card_httpd_requests_total", "status=\"404\""), 0.0, "404s counted");
        assertTrue(ComposeLab.sum(after, "cardnet_card_httpd_cache_total", "result=\"hit\"")
                > ComposeLab.sum(before, "cardnet_card_httpd_cache_total", "result=\"hit\""), "warm fetches hit the cache");
    }

    /**
     * Last: a drill recreates the card's container from the 1.0.1 image. Its console keeps the host key (the console
     * volume), and the new card runs the services the lab was brought up with (CARD_RELAY, CARDNET_EXPORT), which
     * `cardnet drill` carries over without being told.
     */
    @Test
    @Order(4)
    void aDrillKeepsTheHostKeyAndTheServices(@TempDir Path reports) throws Exception {
        String key = lab.run("card", "cat", "/console/card/known_hosts").strip();
        CardnetCli.Run drill = CardnetCli.run(java.time.Duration.ofSeconds(240), "drill", "--runtime", "compose",
                "--project", lab.project, "--file", ComposeLab.COMPOSE.toString(), "--to", "1.0.1", "--watchdog", "60s",
                "--out", reports.toString(), "--json");
        assertEquals(0, drill.exit(), drill.err());
        assertEquals("committed", new com.fasterxml.jackson.databind.ObjectMapper().readTree(drill.out())
                .path("result").asText(), drill.out());
        assertEquals(List.of("cardnet/card-firmware:1.0.1"), DockerRequired.lines("ps", "--filter",
                "label=com.docker.compose.project=" + lab.project, "--filter", "label=com.docker.compose.service=card",
                "--format", "{{.Image}}"));
        assertEquals(key, lab.run("card", "cat", "/console/card/known_hosts").strip(), "the card's host key changed");
        ExecResult r = null;
        for (int i = 0; i < 40; i++) { // the console listens a moment after host0 is up
            r = lab.exec("host", "ssh", "-F", "/console/ssh_config", "card", "true");
            if (r.exitCode() == 0) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals(0, r.exitCode(), "strict host key checking after the drill: " + r.stderr());
        String sent = lab.run("host", "cardnet", "tool", "send", "--to", "198.18.1.1:5001", "--size", "16M");
        assertTrue(sent.contains("sink agrees"), sent);
        assertTrue(ComposeLab.sum(lab.metrics(CARD_METRICS), "cardnet_card_relay_connections_total", "") >= 1,
                "the new card relays too");
        assertEquals("200", lab.run("wire", "curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}",
                "http://198.18.1.2/sub/index.html").strip(), "the new card serves the export too");
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
