package io.cardnet.lab;

import io.cardnet.lab.runtime.Shell;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firmware 1.2.0's ESP tunnel in the compose lab: the keys service makes the SAs for this lab (0600, in the ipsec
 * volume, never in an image), the card and the esp-peer service (in the wire container's network namespace) run the
 * two ends, and tshark on the wire network's bridge (on the Docker host) sees the host's traffic to the wire peer
 * only as ESP while 64 MiB arrive with equal SHA-256.
 */
class ComposeIpsecIT {
    private static final String HOST = "198.18.0.1";
    private static ComposeLab lab;

    @BeforeAll
    static void up() throws Exception {
        DockerRequired.check();
        RootRequired.requireTool("tshark");
        lab = ComposeLab.up("cardnetesp", Map.of("CARD_FIRMWARE", "cardnet/card-firmware:1.2.0"),
                List.of("card", "host", "esp-peer"), "keys", "pci-link", "card", "host", "wire", "esp-peer");
    }

    @AfterAll
    static void down() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void theLabsKeysAreOwnerOnlyAndBothEndsRunOnThem() throws Exception {
        assertEquals("600", lab.run("card", "stat", "-c", "%a", "/ipsec/ipsec.keys").strip());
        assertEquals("600", lab.run("esp-peer", "stat", "-c", "%a", "/ipsec/ipsec.keys").strip());
        String keys = lab.run("card", "cat", "/ipsec/ipsec.keys");
        assertTrue(keys.contains("esp=aes256gcm16") && keys.contains("card=198.18.1.2") && keys.contains("peer=198.18.1.1"),
                "the keys name the compose lab's tunnel ends: " + keys.replaceAll("key=\\S+", "key=…"));
        // the firmware image holds no key: the keys service wrote them into the lab's volume at `up`
        Shell.Result image = Shell.run(List.of("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh",
                "cardnet/card-firmware:1.2.0", "-c", "grep -rlsE 'to-peer[.]key=0x[0-9a-f]{8}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev || true"), 120);
        assertTrue(image.ok() && image.output().isBlank(), "a key file in the image: " + image.output());
        assertTrue(lab.run("esp-peer", "ip", "link", "show", "esp0").contains("UP"), "the peer's esp0");
        assertTrue(lab.run("wire", "ip", "route", "show", "198.18.0.0/30").contains("dev esp0"),
                "the peer reaches the host's link through its esp0");
    }

    @Test
    void theWireSeesTheHostsTrafficOnlyAsEsp(@TempDir Path dir) throws Exception {
        String bridge = "br-" + DockerRequired.lines("network", "inspect", "-f", "{{.Id}}", lab.project + "_wire")
                .getFirst().substring(0, 12);
        Path pcap = dir.resolve("wire.pcapng");
        Path err = dir.resolve("tshark.err");
        Process tshark = new ProcessBuilder("tshark", "-i", bridge, "-q", "-w", pcap.toString())
                .redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(err).contains("Capturing on") && tshark.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(tshark.isAlive() && Files.readString(err).contains("Capturing on"), "tshark: " + Files.readString(err));
            String sent = lab.run("host", "cardnet", "tool", "send", "--to", "198.18.1.1:5001", "--size", "64M",
                    "--verify", "sha256");
            assertTrue(sent.contains("sink agrees") && sent.contains("67,108,864 bytes"), sent);
            Thread.sleep(300);   // the last ACKs reach the capture
            tshark.destroy();    // SIGTERM: tshark closes the file cleanly
            assertTrue(tshark.waitFor(30, TimeUnit.SECONDS), "tshark did not stop");
            long frames = count(pcap, "frame");
            long esp = count(pcap, "esp");
            long tcp = count(pcap, "tcp");
            long host = count(pcap, "ip.addr == " + HOST);
            System.out.printf("compose ESP: %s; on %s: %d frames, %d ESP, %d TCP, %d to or from the host%n",
                    sent.strip(), bridge, frames, esp, tcp, host);
            assertTrue(esp > 1000, "64 MiB crossed the wire in " + esp + " ESP packets?");
            assertEquals(0, tcp, "TCP in the clear on the wire");
            assertEquals(0, host, "the host's address in the clear on the wire");
        } finally {
            tshark.destroyForcibly();
            tshark.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static long count(Path pcap, String filter) throws Exception {
        return IpsecIT.count(pcap, filter);
    }
}
