package io.cardnet.lab;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The card's TCP relay on a real lab: host applications' connections to the wire peer end on the card (bus MSS) and
 * continue from the card's own TCP stack. Real kernels on every side, tproxy in the card's namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelayIT {
    private static final String PEER = "198.19.0.1";
    private static final String CARD = "198.18.0.2";
    /** The wire's MSS at its MTU of 1500: what a routed host connection would run at. */
    private static final int WIRE_MSS = 1460;
    private static final int MAX_CONNECTIONS = 3;
    private static final String MOVED = "cardnet_card_relay_moved_bytes_total{component=\"card-node\",";

    private TestLab t;
    /** The wire peer's side of each exchange runs here, not on the common pool a stuck peer could starve. */
    private final java.util.concurrent.ExecutorService peers = java.util.concurrent.Executors.newCachedThreadPool();

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        t = TestLab.up(c -> c.withRelay(new LabConfig.Relay(true, MAX_CONNECTIONS)));
    }

    @AfterAll
    void down() throws Exception {
        peers.shutdownNow();
        if (t != null) {
            t.close();
        }
    }

    @Test
    void aHostTransferToTheWireArrivesWholeAtTheBusMss() throws Exception {
        long size = 256L << 20;
        double connections0 = metric("cardnet_card_relay_connections_total");
        double fromHost0 = metric("cardnet_card_relay_bytes_total{component=\"card-node\",from=\"host\"}");
        double spliced0 = metric(MOVED + "method=\"splice\"}");
        double copied0 = metric(MOVED + "method=\"copy\"}");
        try (Sink sink = TestLab.in(t.wireNs(), () -> Sink.listen(new InetSocketAddress(PEER, 5301)))) {
            var served = TestLab.receiveOne(sink);
            long segs0 = TestLab.in(t.hostNs(), RelayIT::outSegs);
            Sender.Result sent = TestLab.in(t.hostNs(), () -> Sender.send(new InetSocketAddress(PEER, 5301), size,
                    IntegrityCheck.SHA256, n -> { }));
            long segs = TestLab.in(t.hostNs(), RelayIT::outSegs) - segs0;
            var received = served.get(120, TimeUnit.SECONDS);
            assertTrue(new TestLab.Transfer(sent, received).intact(), "SHA-256 differs: sent " + sent + ", received " + received);
            assertEquals(size, received.bytes());
            // Routed, the host would send at least size / 1460 segments; ended on the card it sends 64K ones.
            long routedAtLeast = size / WIRE_MSS;
            assertTrue(segs < routedAtLeast / 10, "the host sent " + segs + " TCP segments for " + size
                    + " bytes; at the wire's MSS it would be at least " + routedAtLeast);
        }
        assertTrue(metric("cardnet_card_relay_connections_total") >= connections0 + 1, "the relay did not count the connection");
        assertTrue(metric("cardnet_card_relay_bytes_total{component=\"card-node\",from=\"host\"}") >= fromHost0 + size,
                "the relay did not count the host's bytes");
        // Moved by splice(2) in the card's kernel (the default --relay-move), none through the relay's buffers: copy
        // counts only what a host sends before its onward connection is up, nothing for a transfer this long.
        double spliced = metric(MOVED + "method=\"splice\"}") - spliced0;
        double copied = metric(MOVED + "method=\"copy\"}") - copied0;
        assertTrue(spliced >= size, "spliced " + spliced + " bytes of the " + size + " transferred");
        assertTrue(copied < 4096, "copied " + copied + " bytes of a spliced transfer");
    }

    @Test
    void aDownloadAfterTheRequestsFinArrivesWhole() throws Exception {
        // The host's input has ended on the card when the bulk comes back: what HTTP/1.0 clients and `nc -N` do.
        long size = 64L << 20;
        try (ServerSocket server = TestLab.in(t.wireNs(), () -> new ServerSocket(5306, 5, java.net.InetAddress.getByName(PEER)))) {
            CompletableFuture<String> peer = CompletableFuture.supplyAsync(() -> {
                try (Socket c = accept(server)) {
                    assertArrayEquals("GET".getBytes(StandardCharsets.US_ASCII), c.getInputStream().readAllBytes());
                    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                    java.util.Random random = new java.util.Random(7);
                    byte[] chunk = new byte[64 << 10];
                    for (long left = size; left > 0; left -= chunk.length) {
                        random.nextBytes(chunk);
                        sha.update(chunk);
                        c.getOutputStream().write(chunk);
                    }
                    c.shutdownOutput();
                    return java.util.HexFormat.of().formatHex(sha.digest());
                } catch (IOException | java.security.NoSuchAlgorithmException x) {
                    throw new IllegalStateException(x);
                }
            }, peers);
            String[] got = TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5306), 5000);
                    s.setSoTimeout(30_000);
                    s.getOutputStream().write("GET".getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
                    byte[] buf = new byte[64 << 10];
                    long n = 0;
                    for (int r; (r = s.getInputStream().read(buf)) >= 0; n += r) {
                        sha.update(buf, 0, r);
                    }
                    return new String[] {Long.toString(n), java.util.HexFormat.of().formatHex(sha.digest())};
                }
            });
            assertEquals(Long.toString(size), got[0], "bytes the host received after its FIN");
            assertEquals(peer.get(60, TimeUnit.SECONDS), got[1], "SHA-256 of the download");
        }
    }

    @Test
    void aConnectionFromTheWireToTheHostIsRoutedNotRelayed() throws Exception {
        // The host's replies (SYN-ACK, data) leave host0 toward the wire too; only connections the host opens may be
        // handed to the relay, or the host's SYN-ACK would be taken by the relay's listener and the connection stall.
        long size = 8L << 20;
        double connections0 = metric("cardnet_card_relay_connections_total");
        try (Sink sink = TestLab.in(t.hostNs(), () -> Sink.listen(new InetSocketAddress("198.18.0.1", 5304)))) {
            var served = TestLab.receiveOne(sink);
            Sender.Result sent = TestLab.in(t.wireNs(), () -> Sender.send(new InetSocketAddress("198.18.0.1", 5304), size,
                    IntegrityCheck.SHA256, n -> { }));
            var received = served.get(60, TimeUnit.SECONDS);
            assertTrue(new TestLab.Transfer(sent, received).intact(), "SHA-256 differs: sent " + sent + ", received " + received);
            assertEquals(size, received.bytes());
        }
        assertEquals(connections0, metric("cardnet_card_relay_connections_total"), "the relay took a wire-opened connection");
    }

    @Test
    void aRefusingPeerResetsTheHostConnectionPromptly() throws Exception {
        double refused0 = metric("cardnet_card_relay_refused_total{component=\"card-node\",reason=\"onward\"}");
        // Nothing listens on the peer's port 5399: the peer answers the card's SYN with a RST.
        IOException e = assertThrows(IOException.class, () -> TestLab.in(t.hostNs(), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(PEER, 5399), 5000);
                s.setSoTimeout(10_000); // a hang fails the test as a timeout, not a reset
                return s.getInputStream().read();
            }
        }));
        assertTrue(e instanceof SocketException && e.getMessage().contains("reset"), "expected a reset, got " + e);
        awaitMetric("cardnet_card_relay_refused_total{component=\"card-node\",reason=\"onward\"}", refused0 + 1);
    }

    @Test
    void aPeerResetReachesTheHostAsAReset() throws Exception {
        try (ServerSocket server = TestLab.in(t.wireNs(), () -> new ServerSocket(5302, 5, java.net.InetAddress.getByName(PEER)))) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (Socket c = accept(server)) {
                    c.getInputStream().readNBytes(5);
                    c.setSoLinger(true, 0); // close with a RST
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            }, peers);
            IOException e = assertThrows(IOException.class, () -> TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5302), 5000);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                    return s.getInputStream().read();
                }
            }));
            assertTrue(e instanceof SocketException && e.getMessage().contains("reset"), "expected a reset, got " + e);
            peer.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void halfCloseWorksBothWays() throws Exception {
        try (ServerSocket server = TestLab.in(t.wireNs(), () -> new ServerSocket(5303, 5, java.net.InetAddress.getByName(PEER)))) {
            // 1. The host ends its sending first; the peer reads to the end, then still answers.
            CompletableFuture<byte[]> peer = CompletableFuture.supplyAsync(() -> {
                try (Socket c = accept(server)) {
                    byte[] got = c.getInputStream().readAllBytes();
                    c.getOutputStream().write("answer after your FIN".getBytes(StandardCharsets.US_ASCII));
                    return got;
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            }, peers);
            byte[] answer = TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5303), 5000);
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("request".getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    return s.getInputStream().readAllBytes();
                }
            });
            assertArrayEquals("request".getBytes(StandardCharsets.US_ASCII), peer.get(10, TimeUnit.SECONDS));
            assertEquals("answer after your FIN", new String(answer, StandardCharsets.US_ASCII));

            // 2. The peer ends its sending first; the host reads to the end, then still sends.
            CompletableFuture<byte[]> peer2 = CompletableFuture.supplyAsync(() -> {
                try (Socket c = accept(server)) {
                    c.setSoTimeout(10_000);
                    c.getOutputStream().write("banner".getBytes(StandardCharsets.US_ASCII));
                    c.shutdownOutput();
                    return c.getInputStream().readAllBytes();
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            }, peers);
            byte[] banner = TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5303), 5000);
                    s.setSoTimeout(10_000);
                    byte[] b = s.getInputStream().readAllBytes();
                    s.getOutputStream().write("sent after your FIN".getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    return b;
                }
            });
            assertEquals("banner", new String(banner, StandardCharsets.US_ASCII));
            assertEquals("sent after your FIN", new String(peer2.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aFullCardRefusesTheNextConnectionWithAResetAndCountsIt() throws Exception {
        awaitMetric("cardnet_card_relay_connections_open", 0); // earlier tests' connections are gone
        double refused0 = metric("cardnet_card_relay_refused_total{component=\"card-node\",reason=\"full\"}");
        List<Socket> held = new ArrayList<>();
        List<Socket> accepted = new ArrayList<>();
        try (ServerSocket server = TestLab.in(t.wireNs(), () -> new ServerSocket(5304, 16, java.net.InetAddress.getByName(PEER)))) {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                held.add(TestLab.in(t.hostNs(), () -> {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress(PEER, 5304), 5000);
                    return s;
                }));
                accepted.add(accept(server)); // the relay's onward connection reached the peer
            }
            awaitMetric("cardnet_card_relay_connections_open", MAX_CONNECTIONS);
            IOException e = assertThrows(IOException.class, () -> TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5304), 5000);
                    s.setSoTimeout(10_000);
                    return s.getInputStream().read();
                }
            }));
            assertTrue(e instanceof SocketException && e.getMessage().contains("reset"), "expected a reset, got " + e);
            awaitMetric("cardnet_card_relay_refused_total{component=\"card-node\",reason=\"full\"}", refused0 + 1);
        } finally {
            for (Socket s : held) {
                s.close();
            }
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /**
     * The objection kernel developers raise against a TOE, shown: the host's netfilter sees only its half of the
     * connection (the card's handshake, at the bus's MSS), not the wire connection; the wire peer sees the card's
     * connection (the wire's MSS, another source port); the card's firewall is where the wire connection is visible.
     */
    @Test
    void theHostsNetfilterSeesTheCardsHalfAndTheCardsFirewallSeesTheWire() throws Exception {
        try {
            probe();
        } finally {
            TestLab.exec(t.hostNs(), "nft", "delete", "table", "inet", "relayprobe");
            TestLab.exec(t.cardNs(), "nft", "delete", "table", "inet", "relayprobe");
        }
    }

    private void probe() throws Exception {
        nft(t.hostNs(), "add table inet relayprobe",
                "add chain inet relayprobe received { type filter hook input priority 0; }",
                "add rule inet relayprobe received ip saddr " + PEER + " tcp sport 5305 tcp flags & (syn|ack) == syn|ack tcp option maxseg size > " + WIRE_MSS + " counter",
                "add rule inet relayprobe received ip saddr " + PEER + " tcp sport 5305 tcp flags & (syn|ack) == syn|ack tcp option maxseg size <= " + WIRE_MSS + " counter");
        nft(t.cardNs(), "add table inet relayprobe",
                "add chain inet relayprobe forwarded { type filter hook forward priority 0; }",
                "add chain inet relayprobe sent { type filter hook output priority 0; }",
                "add rule inet relayprobe forwarded tcp dport 5305 counter",
                "add rule inet relayprobe sent ip daddr " + PEER + " tcp dport 5305 tcp flags syn counter");
        try (ServerSocket server = TestLab.in(t.wireNs(), () -> new ServerSocket(5305, 5, java.net.InetAddress.getByName(PEER)))) {
            CompletableFuture<InetSocketAddress> seenByPeer = CompletableFuture.supplyAsync(() -> {
                try (Socket c = accept(server)) {
                    c.getInputStream().readAllBytes();
                    return (InetSocketAddress) c.getRemoteSocketAddress();
                } catch (IOException x) {
                    throw new java.io.UncheckedIOException(x);
                }
            }, peers);
            InetSocketAddress hostSide = TestLab.in(t.hostNs(), () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(PEER, 5305), 5000);
                    s.shutdownOutput();
                    return (InetSocketAddress) s.getLocalSocketAddress();
                }
            });
            InetSocketAddress peerSide = seenByPeer.get(10, TimeUnit.SECONDS);
            assertEquals(hostSide.getAddress(), peerSide.getAddress(), "the wire sees the host's address as the source");
            // (its port may equal the host's: the card's kernel picks it the way the host's did, in another namespace;
            // the counters below show whose connection the wire has)
        }
        assertEquals(List.of(1L, 0L), counters(t.hostNs()),
                "the host's netfilter saw [SYN-ACKs with the bus's MSS, with the wire's MSS]");
        assertEquals(List.of(0L, 1L), counters(t.cardNs()),
                "the card's firewall saw [forwarded packets, onward SYNs it sent]");
    }

    // ------------------------------------------------------------------ helpers

    /** The next connection on {@code server}, with reads that give up after 10 s so no test thread hangs. */
    private static Socket accept(ServerSocket server) throws IOException {
        server.setSoTimeout(10_000);
        Socket c = server.accept();
        c.setSoTimeout(10_000);
        return c;
    }

    private static void nft(String ns, String... commands) throws IOException {
        for (String c : commands) {
            Shell.Result r = TestLab.exec(ns, "nft", c);
            assertTrue(r.ok(), "nft " + c + ": " + r.output());
        }
    }

    /** The packet counts of the probe table's counter rules, in order. */
    private static List<Long> counters(String ns) throws IOException {
        Shell.Result r = TestLab.exec(ns, "nft", "list", "table", "inet", "relayprobe");
        List<Long> out = new ArrayList<>();
        Matcher m = Pattern.compile("counter packets (\\d+)").matcher(r.output());
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }

    /** Tcp: OutSegs of the calling thread's namespace (/proc/net follows the main thread; thread-self does not). */
    static long outSegs() throws IOException {
        List<String> tcp = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/thread-self/net/snmp"))
                .stream().filter(l -> l.startsWith("Tcp:")).toList();
        List<String> names = List.of(tcp.get(0).split("\\s+"));
        return Long.parseLong(tcp.get(1).split("\\s+")[names.indexOf("OutSegs")]);
    }

    /** A sample of the card's /metrics, scraped across the bus: the line starting with {@code series}. */
    private double metric(String series) throws Exception {
        String text = TestLab.in(t.hostNs(), () -> TestLab.httpGet("http://" + CARD + ":9472/metrics"));
        String key = series.contains("{") ? series : series + "{";
        for (String line : text.split("\n")) {
            if (line.startsWith(key)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("the card's /metrics has no " + series);
    }

    private void awaitMetric(String series, double value) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        double v;
        while ((v = metric(series)) != value) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(series + " is " + v + ", expected " + value);
            }
            Thread.sleep(100);
        }
    }
}
