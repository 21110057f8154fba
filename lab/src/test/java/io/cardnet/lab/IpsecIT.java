package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firmware 1.2.0's ESP tunnel on a real lab: tshark on the wire veth (in the wire's namespace) sees the host's TCP
 * transfer to the wire peer only as ESP, the bytes arrive with equal SHA-256, the host side holds no key, SA or
 * tunnel; a drill to 1.1.0 turns it off (the same capture then sees the TCP) and one back to 1.2.0, under traffic,
 * turns it on again with the routed flow intact.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IpsecIT {
    private static final String HOST = "198.18.0.1";
    private static final String PEER = "198.19.0.1";
    private static final long SIZE = 32L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestLab t;
    private final List<Long> peerPids = new ArrayList<>();

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        RootRequired.requireTool("tshark");
        t = TestLab.up(c -> c.withFirmware(firmware("1.2.0")));
    }

    @AfterAll
    void down() throws Exception {
        if (t != null) {
            t.close();
            for (long pid : peerPids) {
                assertFalse(io.cardnet.lab.runtime.Lab.isRunning(pid), "the wire peer's ESP end " + pid + " is still running");
            }
        }
    }

    private static Path firmware(String version) {
        try {
            return FirmwareCatalog.resolve(version);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    void theHostsTransferCrossesTheWireOnlyAsEspAndArrivesIntact() throws Exception {
        long peerPid = espPeer().pid();
        peerPids.add(peerPid);
        Path keys = t.lab.runDir().resolve("ipsec.keys");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)), "the keys are the lab's only");
        String key = Files.readAllLines(keys).stream().filter(l -> l.startsWith("to-peer.key=")).findFirst().orElseThrow()
                .substring("to-peer.key=0x".length());
        assertFalse(grepTree(Path.of("..", "images", "card-firmware"), key), "a key of this lab is in images/");

        Measured m = captureTransfer(5301);
        assertTrue(m.transfer.received().agrees(m.transfer.sent().bytes(), m.transfer.sent().check(), m.transfer.sent().value()),
                "bytes or SHA-256 differ: " + m.transfer.received());
        assertEquals(0, m.capture.plainTcp, "plaintext TCP on the wire: " + m.capture);
        assertEquals(0, m.capture.hostAddressed, "the host's address in the clear on the wire: " + m.capture);
        // every inner packet is at most esp0's MTU, so the transfer needs at least SIZE / 1432 ESP packets
        assertTrue(m.capture.esp >= SIZE / 1432, "too few ESP packets for " + SIZE + " bytes: " + m.capture);

        // the host side does no crypto: no SA, no policy, no tunnel device, no ESP socket in its namespace
        assertTrue(TestLab.exec(t.hostNs(), "ip", "xfrm", "state", "count").output().contains("SAD count 0"));
        assertFalse(TestLab.exec(t.hostNs(), "ip", "-o", "link", "show").output().contains("esp0"));
        assertFalse(TestLab.exec(t.hostNs(), "ss", "-uan").output().contains(":4500"));
        assertFalse(Files.readString(t.lab.runDir().resolve("host-bridge.log")).toLowerCase().contains("esp"));

        // the card counts what it sealed and opened, and refused nothing
        String metrics = TestLab.in(t.hostNs(), () -> scrape("http://198.18.0.2:9472/metrics"));
        // every ESP packet on the wire is one the card sealed or opened (its counters also hold earlier traffic)
        double sealed = counter(metrics, "cardnet_card_ipsec_packets_total{component=\"card-node\",direction=\"out\"}");
        double opened = counter(metrics, "cardnet_card_ipsec_packets_total{component=\"card-node\",direction=\"in\"}");
        assertTrue(sealed >= SIZE / 1432 && sealed + opened >= m.capture.esp, sealed + " sealed, " + opened + " opened, " + m.capture);
        assertEquals(0, counter(metrics, "cardnet_card_ipsec_refused_total{component=\"card-node\",reason=\"authentication\"}"));
        System.out.printf("IPsec on (1.2.0): %s; %s%n", m.describe(), m.capture);
    }

    @Test
    @Order(2)
    void aDrillTo110TurnsTheTunnelOffAndOneBackTo120UnderTrafficTurnsItOn(@TempDir Path reports) throws Exception {
        CardnetCli.Run off = CardnetCli.run(Duration.ofMinutes(3), "drill", "--to", "1.1.0", "--lab", t.name, "--json",
                "--out", reports.toString());
        assertEquals(0, off.exit(), off.err());
        t.lab.refresh();
        assertEquals(null, t.lab.state().processes().get("esp-peer"), "the wire peer's ESP end outlived 1.2.0");
        assertFalse(Files.exists(t.lab.runDir().resolve("ipsec.keys")), "1.2.0's keys outlived it");
        assertFalse(TestLab.exec(t.wireNs(), "ip", "-o", "link", "show").output().contains("esp0"));
        Measured plain = captureTransfer(5302);
        assertTrue(plain.transfer.intact(), plain.transfer.received().toString());
        assertTrue(plain.capture.plainTcp > 0 && plain.capture.esp == 0, "1.1.0 routes in the clear: " + plain.capture);
        System.out.printf("IPsec off (1.1.0): %s; %s%n", plain.describe(), plain.capture);

        CardnetCli.Run on = CardnetCli.run(Duration.ofMinutes(3), "drill", "--to", "1.2.0", "--lab", t.name, "--traffic",
                "--watchdog", "30s", "--json", "--out", reports.toString());
        System.out.println(on.err());
        assertEquals(0, on.exit(), on.err());
        JsonNode r = JSON.readTree(on.out());
        assertEquals("committed", r.path("result").asText());
        assertTrue(r.path("health").toString().contains("ipsec up"), r.path("health").toString());
        JsonNode routed = r.path("flows").path(0);
        assertTrue(routed.path("survived").asBoolean() && routed.path("sha256Equal").asBoolean(),
                "the host's routed flow through the swap into the tunnel: " + routed);
        assertTrue(r.path("probeAfter").path("passed").asBoolean(), "the wire reaches the host: " + r.path("probeAfter"));
        t.lab.refresh();
        peerPids.add(espPeer().pid());
        Measured again = captureTransfer(5303);
        assertTrue(again.transfer.intact(), again.transfer.received().toString());
        assertTrue(again.capture.plainTcp == 0 && again.capture.esp > 0, again.capture.toString());
        System.out.printf("drill 1.1.0 → 1.2.0 under traffic: outage %d ms; then %s%n", r.path("outageMillis").asLong(),
                again.describe());
    }

    private LabState.Proc espPeer() {
        LabState.Proc p = t.lab.state().processes().get("esp-peer");
        assertTrue(p != null && io.cardnet.lab.runtime.Lab.isRunning(p.pid()), "the wire peer's ESP end runs: " + p);
        return p;
    }

    /** What tshark saw on the wire's eth0. */
    record Capture(long frames, long esp, long plainTcp, long hostAddressed) {
    }

    record Measured(TestLab.Transfer transfer, Capture capture, double hostCpuSeconds, double cardCpuSeconds) {
        String describe() {
            double gib = transfer.sent().bytes() / (double) (1L << 30);
            return String.format("%d MiB host→wire at %.3f Gb/s, host CPU %.2f s/GiB (sender thread + host-bridge),"
                            + " card-node CPU %.2f s/GiB", transfer.sent().bytes() >> 20, transfer.sent().gbps(),
                    hostCpuSeconds / gib, cardCpuSeconds / gib);
        }
    }

    private Measured captureTransfer(int port) throws Exception {
        return captureTransfer(t, port, SIZE);
    }

    /**
     * tshark on lab {@code t}'s wire eth0 while the host sends {@code size} bytes to a sink on the wire peer, SHA-256
     * checked (VmIpsecIT measures the VM card with it too).
     */
    static Measured captureTransfer(TestLab t, int port, long size) throws Exception {
        Path dir = Files.createTempDirectory("ipsec-it");
        Path pcap = dir.resolve("wire.pcapng");
        Path err = dir.resolve("tshark.err");
        Process tshark = new ProcessBuilder(Shell.inNamespace(t.wireNs(), List.of("tshark", "-i", "eth0", "-q", "-w",
                pcap.toString()))).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(err).contains("Capturing on") && tshark.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(tshark.isAlive() && Files.readString(err).contains("Capturing on"), "tshark: " + Files.readString(err));
            long hb = t.lab.pid(io.cardnet.lab.runtime.Component.HOST_BRIDGE);
            long card = t.lab.pid(io.cardnet.lab.runtime.Component.CARD_NODE);
            double hbBefore = processSeconds(hb);
            double cardBefore = processSeconds(card);
            TestLab.Transfer transfer;
            double[] senderCpu = new double[1];
            try (Sink sink = TestLab.in(t.wireNs(), () -> Sink.listen(new InetSocketAddress(PEER, port)))) {
                CompletableFuture<TransferReport> received = TestLab.receiveOne(sink);
                Sender.Result sent = TestLab.in(t.hostNs(), () -> {
                    long cpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
                    Sender.Result s = Sender.send(new InetSocketAddress(PEER, port), size, IntegrityCheck.SHA256, n -> { });
                    senderCpu[0] = (ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu) / 1e9;
                    return s;
                });
                transfer = new TestLab.Transfer(sent, received.get(300, TimeUnit.SECONDS));
            }
            double host = senderCpu[0] + processSeconds(hb) - hbBefore;
            double cardCpu = processSeconds(card) - cardBefore;
            Thread.sleep(300);   // the last ACKs reach the capture
            tshark.destroy();    // SIGTERM: tshark closes the file cleanly
            assertTrue(tshark.waitFor(30, TimeUnit.SECONDS), "tshark did not stop");
            return new Measured(transfer, analyse(pcap), host, cardCpu);
        } finally {
            tshark.destroyForcibly();
            tshark.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static Capture analyse(Path pcap) throws IOException {
        return new Capture(count(pcap, "frame"), count(pcap, "esp"), count(pcap, "tcp"),
                count(pcap, "ip.addr == " + HOST));
    }

    /** Frames of the capture that match a tshark display filter (ComposeIpsecIT counts with it too). */
    static long count(Path pcap, String filter) throws IOException {
        Shell.Result r = Shell.run(List.of("tshark", "-r", pcap.toString(), "-Y", filter, "-T", "fields", "-e",
                "frame.number"), 120);
        assertTrue(r.ok(), "tshark -r: " + r.output());
        return Arrays.stream(r.output().split("\n")).filter(l -> l.strip().matches("\\d+")).count();
    }

    private static double processSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    private static String scrape(String url) throws IOException {
        var c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(5000);
        try (var in = c.getInputStream()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static double counter(String metrics, String series) {
        return metrics.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.split(" ")[1]))
                .findFirst().orElse(-1);
    }

    private static boolean grepTree(Path root, String text) throws IOException {
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (Files.readString(f).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }
}
