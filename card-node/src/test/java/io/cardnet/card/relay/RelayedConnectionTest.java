package io.cardnet.card.relay;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay's joining of a host connection and its onward twin, both ways of moving bytes, on real sockets on
 * loopback: the relay's own listener and acceptor (not transparent: the onward connection goes to a test peer instead
 * of the host's original destination, which only tproxy provides; RelayIT covers that on a lab).
 */
class RelayedConnectionTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private EventLoopGroup group;
    private Channel listener;
    private ServerSocket peer;
    private RelayCounters counters;

    /** A relay on loopback that continues every connection to {@link #peer}, after {@code delayMillis}. */
    private InetSocketAddress relay(RelayMove move, long delayMillis) throws IOException {
        Assumptions.assumeTrue(Epoll.isAvailable(), "Netty's epoll transport is unavailable: " + Epoll.unavailabilityCause());
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        counters = new RelayCounters(new SimpleMeterRegistry());
        peer = new ServerSocket(0, 50, LOOPBACK);
        peer.setSoTimeout(10_000);
        InetSocketAddress to = (InetSocketAddress) peer.getLocalSocketAddress();
        RelayConfig config = RelayConfig.defaults("lo").withMove(move);
        listener = TcpRelay.listen(group, new InetSocketAddress(LOOPBACK, 0), false,
                new TcpRelay.Acceptor(config, counters, (host, b) -> {
                    if (delayMillis == 0) {
                        return b.connect(to);
                    }
                    // The onward connection comes up late: what the host sends first is held by the relay.
                    Channel wire = b.register().channel();
                    ChannelPromise up = wire.newPromise();
                    host.eventLoop().schedule(() -> wire.connect(to).addListener((ChannelFuture f) -> {
                        if (f.isSuccess()) {
                            up.setSuccess();
                        } else {
                            up.setFailure(f.cause());
                        }
                    }), delayMillis, TimeUnit.MILLISECONDS);
                    return up;
                }));
        return (InetSocketAddress) listener.localAddress();
    }

    @AfterEach
    void close() throws Exception {
        threads.shutdownNow();
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (peer != null) {
            peer.close();
        }
    }

    @ParameterizedTest
    @EnumSource(RelayMove.class)
    void bulkBothWaysAtOnceArrivesWholeAndIsCountedByHowItMoved(RelayMove move) throws Exception {
        InetSocketAddress relay = relay(move, 0);
        long up = 64L << 20;
        long down = 24L << 20;
        try (Socket host = connect(relay); Socket wire = accept()) {
            // Each side ends its sending only once it has all the other sent: with --relay-move copy, bytes toward
            // a socket whose input has ended stall (see aBulkTransferAfterTheOtherWayEndedArrivesWhole).
            CompletableFuture<String> hostSent = async(() -> send(host, up, 1, false));
            CompletableFuture<String> wireSent = async(() -> send(wire, down, 2, false));
            CompletableFuture<String> wireGot = async(() -> receive(wire, up));
            CompletableFuture<String> hostGot = async(() -> receive(host, down));
            assertEquals(hostSent.get(60, TimeUnit.SECONDS), wireGot.get(60, TimeUnit.SECONDS), "host → wire SHA-256");
            assertEquals(wireSent.get(60, TimeUnit.SECONDS), hostGot.get(60, TimeUnit.SECONDS), "wire → host SHA-256");
            host.shutdownOutput();
            wire.shutdownOutput();
            assertEquals(-1, wire.getInputStream().read());
            assertEquals(-1, host.getInputStream().read());
        }
        awaitTrue(() -> counters.open.get() == 0, "the pair's slot was not freed");
        assertEquals(up, (long) counters.fromHost.count());
        assertEquals(down, (long) counters.fromWire.count());
        double splice = counters.spliced.count();
        double copy = counters.copied.count();
        if (move == RelayMove.SPLICE) {
            assertEquals(up + down, (long) splice, "every byte spliced");
            assertEquals(0, (long) copy, "no byte copied");
        } else {
            assertEquals(up + down, (long) copy, "every byte copied");
            assertEquals(0, (long) splice, "no byte spliced");
        }
        assertEquals(0, (long) counters.resets.count());
    }

    /**
     * A download after the request's FIN: the host's input has ended on the card when the bulk comes back. Spliced
     * only: once a socket's input has ended, Netty's epoll transport (4.2.18) can no longer change its epoll interest
     * (epoll_ctl: ENOENT), so a copied write toward it that fills its send buffer cannot wait for room and the relay
     * resets the pair; splice(2) on the relay's own registration has no such limit.
     */
    @org.junit.jupiter.api.Test
    void aBulkTransferAfterTheOtherWayEndedArrivesWhole() throws Exception {
        InetSocketAddress relay = relay(RelayMove.SPLICE, 0);
        long size = 48L << 20;
        for (boolean hostEndsFirst : new boolean[] {true, false}) {
            try (Socket host = connect(relay); Socket wire = accept()) {
                Socket ender = hostEndsFirst ? host : wire;
                Socket other = hostEndsFirst ? wire : host;
                ender.getOutputStream().write(ascii("request"));
                ender.shutdownOutput();
                assertArrayEquals(ascii("request"), other.getInputStream().readAllBytes());
                CompletableFuture<String> got = async(() -> receive(ender, Long.MAX_VALUE));
                String sent = send(other, size, 3, true);
                assertEquals(sent, got.get(60, TimeUnit.SECONDS), "SHA-256 of the bulk after the FIN");
            }
        }
        awaitTrue(() -> counters.open.get() == 0, "the pairs' slots were not freed");
        assertEquals(0, (long) counters.resets.count());
        assertTrue(counters.spliced.count() >= 2 * size, "spliced " + counters.spliced.count());
    }

    @ParameterizedTest
    @EnumSource(RelayMove.class)
    void halfCloseIsCarriedBothWays(RelayMove move) throws Exception {
        InetSocketAddress relay = relay(move, 0);
        for (boolean hostEndsFirst : new boolean[] {true, false}) {
            // One side ends its sending first; the other reads to the end, then still sends.
            try (Socket host = connect(relay); Socket wire = accept()) {
                Socket first = hostEndsFirst ? host : wire;
                Socket second = hostEndsFirst ? wire : host;
                first.getOutputStream().write(ascii("request"));
                first.shutdownOutput();
                assertArrayEquals(ascii("request"), second.getInputStream().readAllBytes());
                second.getOutputStream().write(ascii("answer after your FIN"));
                second.shutdownOutput();
                assertArrayEquals(ascii("answer after your FIN"), first.getInputStream().readAllBytes());
            }
        }
        awaitTrue(() -> counters.open.get() == 0, "the pairs' slots were not freed");
        assertEquals(0, (long) counters.resets.count());
    }

    @ParameterizedTest
    @EnumSource(RelayMove.class)
    void aResetOnEitherSideResetsTheOther(RelayMove move) throws Exception {
        InetSocketAddress relay = relay(move, 0);
        try (Socket host = connect(relay); Socket wire = accept()) {
            host.getOutputStream().write(ascii("hello"));
            assertArrayEquals(ascii("hello"), wire.getInputStream().readNBytes(5));
            wire.setSoLinger(true, 0);
            wire.close(); // a RST
            IOException e = assertThrows(IOException.class, () -> host.getInputStream().read());
            assertTrue(e instanceof SocketException && e.getMessage().contains("reset"), "expected a reset, got " + e);
        }
        try (Socket host = connect(relay); Socket wire = accept()) {
            // After a half-close, so the reset comes while only the other direction is open.
            host.shutdownOutput();
            assertEquals(-1, wire.getInputStream().read());
            host.setSoLinger(true, 0);
            host.close();
            // The wire peer has had its FIN, so its reads say end of stream even after a RST; its writes fail.
            assertThrows(IOException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    wire.getOutputStream().write(new byte[1024]);
                    Thread.sleep(10);
                }
            });
        }
        awaitTrue(() -> counters.resets.count() == 2, "resets counted: " + counters.resets.count());
        awaitTrue(() -> counters.open.get() == 0, "the pairs' slots were not freed");
    }

    @ParameterizedTest
    @EnumSource(RelayMove.class)
    void aRequestAndItsFinSentBeforeTheOnwardConnectionIsUpArriveInOrder(RelayMove move) throws Exception {
        InetSocketAddress relay = relay(move, 300);
        try (Socket host = connect(relay)) {
            host.getOutputStream().write(ascii("request"));
            host.shutdownOutput();
            try (Socket wire = accept()) {
                assertArrayEquals(ascii("request"), wire.getInputStream().readAllBytes());
                wire.getOutputStream().write(ascii("answer"));
                wire.shutdownOutput();
                assertArrayEquals(ascii("answer"), host.getInputStream().readAllBytes());
            }
        }
        awaitTrue(() -> counters.open.get() == 0, "the pair's slot was not freed");
        if (move == RelayMove.SPLICE) {
            // The request was read into user space before splicing could begin: the one copy a spliced pair makes.
            assertEquals(7, (long) counters.copied.count(), "the early request is copied");
            assertEquals(6, (long) counters.spliced.count(), "the answer is spliced");
        }
    }

    @ParameterizedTest
    @EnumSource(RelayMove.class)
    void urgentDataDoesNotStallTheStreamAndItsByteIsLeftOut(RelayMove move) throws Exception {
        InetSocketAddress relay = relay(move, 0);
        try (Socket host = connect(relay); Socket wire = accept()) {
            host.getOutputStream().write(ascii("ab"));
            host.sendUrgentData('U'); // MSG_OOB: the relay reads without it, so the byte is not passed on
            host.getOutputStream().write(ascii("cd"));
            host.shutdownOutput();
            assertArrayEquals(ascii("abcd"), wire.getInputStream().readAllBytes());
            wire.shutdownOutput();
            assertEquals(-1, host.getInputStream().read());
        }
        awaitTrue(() -> counters.open.get() == 0, "the pair's slot was not freed");
    }

    // ------------------------------------------------------------------ helpers

    private static Socket connect(InetSocketAddress relay) throws IOException {
        Socket s = new Socket();
        s.connect(relay, 5000);
        s.setSoTimeout(30_000);
        return s;
    }

    private Socket accept() throws IOException {
        Socket s = peer.accept();
        s.setSoTimeout(30_000);
        return s;
    }

    /** Sends {@code size} pseudo-random bytes, then a FIN if {@code end}; their SHA-256. */
    private static String send(Socket s, long size, long seed, boolean end) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(seed);
        byte[] chunk = new byte[64 << 10];
        OutputStream out = s.getOutputStream();
        for (long left = size; left > 0; ) {
            int n = (int) Math.min(chunk.length, left);
            random.nextBytes(chunk);
            sha.update(chunk, 0, n);
            out.write(chunk, 0, n);
            left -= n;
        }
        if (end) {
            s.shutdownOutput();
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Reads {@code size} bytes, or to the end of stream if sooner; the SHA-256 of what came. */
    private static String receive(Socket s, long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 << 10];
        InputStream in = s.getInputStream();
        for (long left = size; left > 0; ) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                break;
            }
            sha.update(buf, 0, n);
            left -= n;
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private interface Work<T> {
        T run() throws Exception;
    }

    private <T> CompletableFuture<T> async(Work<T> w) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return w.run();
            } catch (Exception e) {
                throw new UncheckedIOException(new IOException(e));
            }
        }, threads);
    }

    private static void awaitTrue(BooleanSupplier condition, String message) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(message);
            }
            Thread.sleep(20);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
