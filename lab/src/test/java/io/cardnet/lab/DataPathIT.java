package io.cardnet.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.testing.RootRequired;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The data path end to end on one isolated lab: real TUNs, real namespaces, the real kernels' TCP.
 * host (toe0 198.18.0.1) ⇄ bus ⇄ card (host0 198.18.0.2, eth0 198.19.0.2) ⇄ wire peer (198.19.0.1).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataPathIT {
    private static final long GIB = 1L << 30;
    private static final String CARD = "198.18.0.2";
    private static final String HOST = "198.18.0.1";
    private static final String PEER = "198.19.0.1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestLab t;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        t = TestLab.up(c -> c);
    }

    @AfterAll
    void down() throws Exception {
        if (t != null) {
            t.close();
        }
    }

    @Test
    void pingCrossesTheBusBothWays() throws Exception {
        Shell.Result toCard = TestLab.exec(t.hostNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", CARD);
        assertTrue(toCard.ok() && toCard.output().contains("3 received"), toCard.output());
        Shell.Result toHost = TestLab.exec(t.cardNs(), "ping", "-c", "3", "-i", "0.2", "-W", "2", HOST);
        assertTrue(toHost.ok() && toHost.output().contains("3 received"), toHost.output());
    }

    @Test
    void a64kPingCrossesWholeWithoutFragmentation() throws Exception {
        long before = t.lab.linkStatus().path("traffic").path("h2c").path("bytes").asLong();
        Shell.Result r = TestLab.exec(t.hostNs(), "ping", "-M", "do", "-s", "65000", "-c", "3", "-i", "0.2", "-W", "2", CARD);
        assertTrue(r.ok() && r.output().contains("3 received"), r.output());
        assertTrue(r.output().contains("65008 bytes from"), "replies carry the whole 64K payload: " + r.output());
        long crossed = t.lab.linkStatus().path("traffic").path("h2c").path("bytes").asLong() - before;
        // 65000 bytes of payload + 8 ICMP + 20 IP = 65028 bytes per echo request, each one descriptor.
        assertTrue(crossed >= 3 * 65028, "the bus carried only " + crossed + " bytes host→card");
    }

    @Test
    void oneGibHostToCardArrivesWithTheSameSha256() throws Exception {
        Sender.Result r = TestLab.in(t.hostNs(), () -> Sender.send(new InetSocketAddress(CARD, 9), GIB, IntegrityCheck.SHA256, n -> { }));
        System.out.printf("host→card 1 GiB: %.2f Gb/s, sha256 %s, card's sink %s%n", r.gbps(), r.value(), r.sink());
        assertEquals(GIB, r.sink().bytes());
        assertEquals(r.value(), r.sink().value());
        assertTrue(r.match());
    }

    @Test
    void oneGibCardToHostArrivesWithTheSameSha256() throws Exception {
        try (Sink sink = TestLab.in(t.hostNs(), () -> Sink.listen(new InetSocketAddress(HOST, 5001)))) {
            CompletableFuture<TransferReport> received = TestLab.receiveOne(sink);
            Sender.Result r = TestLab.in(t.cardNs(), () -> Sender.send(new InetSocketAddress(HOST, 5001), GIB, IntegrityCheck.SHA256, n -> { }));
            TransferReport atHost = received.get(60, TimeUnit.SECONDS);
            System.out.printf("card→host 1 GiB: %.2f Gb/s, sha256 %s, host's sink %s%n", r.gbps(), r.value(), atHost);
            assertEquals(GIB, atHost.bytes());
            assertEquals(r.value(), atHost.value());
        }
    }

    @Test
    void oneGibHostToWirePeerIsRoutedByTheCard() throws Exception {
        long forwardedBefore = txBytes(t.cardNs(), "eth0");
        try (Sink sink = TestLab.in(t.wireNs(), () -> Sink.listen(new InetSocketAddress(PEER, 5002)))) {
            CompletableFuture<TransferReport> received = TestLab.receiveOne(sink);
            Sender.Result r = TestLab.in(t.hostNs(), () -> Sender.send(new InetSocketAddress(PEER, 5002), GIB, IntegrityCheck.SHA256, n -> { }));
            TransferReport atPeer = received.get(60, TimeUnit.SECONDS);
            System.out.printf("host→wire 1 GiB via the card: %.2f Gb/s, sha256 %s, peer's sink %s%n", r.gbps(),
                    r.value(), atPeer);
            assertEquals(GIB, atPeer.bytes());
            assertEquals(r.value(), atPeer.value());
        }
        long forwarded = txBytes(t.cardNs(), "eth0") - forwardedBefore;
        assertTrue(forwarded >= GIB, "the card's eth0 sent only " + forwarded + " bytes; the card did not route the flow");
    }

    @Test
    void theCardsEchoServiceAnswersA64kMessageByteForByte() throws Exception {
        byte[] message = new byte[65536];
        new java.util.SplittableRandom(7).nextBytes(message);
        byte[] back = TestLab.in(t.hostNs(), () -> {
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new InetSocketAddress(CARD, 7), 3000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(message);
                s.shutdownOutput();
                return s.getInputStream().readAllBytes();
            }
        });
        assertTrue(java.util.Arrays.equals(message, back), "echo returned " + back.length + " bytes, not the message");
    }

    @Test
    void iperf3HostToCard() throws Exception {
        RootRequired.requireTool("iperf3");
        double gbps = io.cardnet.lab.bench.Iperf3.run(t.cardNs(), t.hostNs(), CARD, 5);
        System.out.printf("iperf3 -Z host→card, 5 s, one stream: %.2f Gb/s%n", gbps);
        assertTrue(gbps > 0, "iperf3 moved nothing");
    }

    @Test
    void everyProcessServesCardnetMetrics() throws Exception {
        String bus = TestLab.in(t.hostNs(), () -> get("http://127.0.0.1:9470/metrics"));
        for (String name : java.util.List.of("cardnet_bus_frames_total", "cardnet_bus_bytes_total", "cardnet_bus_tlps_total",
                "cardnet_ring_occupancy", "cardnet_bus_doorbells_total", "cardnet_bus_interrupts_total",
                "cardnet_bus_frames_per_interrupt", "cardnet_link_state", "cardnet_link_transitions_total")) {
            assertTrue(bus.contains(name), "the simulator's /metrics lacks " + name);
        }
        assertTrue(bus.contains("cardnet_link_state{component=\"pci-link-sim\"} 3.0"), "link state gauge should say up (3)");
        String bridge = TestLab.in(t.hostNs(), () -> get("http://127.0.0.1:9471/metrics"));
        assertTrue(bridge.contains("cardnet_tun_packets_total"), bridge);
        assertTrue(bridge.contains("cardnet_tun_credit_stalls_total"), bridge);
        // The card's metrics are scraped across the link itself, at the card's address.
        String card = TestLab.in(t.hostNs(), () -> get("http://" + CARD + ":9472/metrics"));
        assertTrue(card.contains("cardnet_card_sink_bytes_total"), card);
        assertTrue(card.contains("component=\"card-node\""), card);
    }

    @Test
    void labStatusJsonShowsTheLinkUp() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var cl = io.cardnet.lab.cli.Commands.commandLine();
        cl.setOut(new java.io.PrintWriter(out, true));
        PrintStream old = System.out;
        int code;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            code = cl.execute("lab", "status", "--name", t.name, "--json");
        } finally {
            System.setOut(old);
        }
        JsonNode s = JSON.readTree(out.toString(StandardCharsets.UTF_8));
        assertEquals(0, code, out.toString());
        assertEquals("UP", s.path("link").path("state").asText());
        assertTrue(s.path("toe0Carrier").asBoolean());
        assertTrue(s.path("processes").path("card-node").path("alive").asBoolean());
    }

    private static long txBytes(String ns, String dev) throws Exception {
        String out = Shell.check(java.util.List.of("ip", "-n", ns, "-j", "-s", "link", "show", dev));
        return JSON.readTree(out).get(0).path("stats64").path("tx").path("bytes").asLong();
    }

    private static String get(String url) throws Exception {
        return TestLab.httpGet(url);
    }
}
