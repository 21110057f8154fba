package io.cardnet.card.ipsec;

import io.cardnet.netdev.NetInterface;
import io.cardnet.netdev.Tun;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One end of a card's ESP tunnel, in user space: a TUN, {@code esp0}, which the end's routes send the protected
 * traffic into, and a UDP socket on port 4500 to the other end (ESP in UDP, RFC 3948, as NAT traversal carries it).
 * Two threads: TUN → seal → UDP, and UDP → open → TUN. The kernel forwards what esp0 delivers like any packet.
 *
 * <p>Why not the kernel's xfrm: the machines cardnet runs on here have kernels built without ESP
 * ({@code CONFIG_INET_ESP} unset, no modules), so {@code ip xfrm state add ... proto esp} is refused. The packets on
 * the wire are the same ESP that xfrm with UDP encapsulation would send.
 */
public final class EspGateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EspGateway.class);
    public static final String DEVICE = "esp0";
    public static final int PORT = 4500;
    /** The routing table the card sends the host's traffic for the wire through (policy routing). */
    public static final String TABLE = "4500";
    private static final int RING = 4096;
    /** IP + UDP headers of the outer packet. */
    private static final int OUTER = 20 + 8;

    /** Which end: the card (behind it the host's link), or the wire peer. */
    public enum End { CARD, PEER }

    private final Tun tun;
    private final DatagramChannel udp;
    private final List<Thread> threads = new ArrayList<>();
    private final Counter sealedPackets;
    private final Counter sealedBytes;
    private final Counter openedPackets;
    private final Counter openedBytes;
    private final Map<EspCodec.Refusal, Counter> refused = new EnumMap<>(EspCodec.Refusal.class);
    private volatile boolean closed;
    private long lastWarning;

    private EspGateway(Tun tun, DatagramChannel udp, MeterRegistry registry, String prefix) {
        this.tun = tun;
        this.udp = udp;
        this.sealedPackets = Counter.builder(prefix + ".packets").tag("direction", "out")
                .description("ESP packets sealed (inner packets encrypted toward the other end)").register(registry);
        this.sealedBytes = Counter.builder(prefix + ".bytes").tag("direction", "out").baseUnit("bytes")
                .description("ESP bytes sent (UDP payload)").register(registry);
        this.openedPackets = Counter.builder(prefix + ".packets").tag("direction", "in")
                .description("ESP packets received, authenticated and delivered").register(registry);
        this.openedBytes = Counter.builder(prefix + ".bytes").tag("direction", "in").baseUnit("bytes")
                .description("ESP bytes received and accepted (UDP payload)").register(registry);
        for (EspCodec.Refusal r : EspCodec.Refusal.values()) {
            refused.put(r, Counter.builder(prefix + ".refused").tag("reason", r.name().toLowerCase())
                    .description("ESP packets dropped: malformed, another SPI, replayed, or failing authentication")
                    .register(registry));
        }
    }

    /**
     * Opens esp0, binds UDP 4500 on this end's outer address, routes the protected prefix into esp0, and starts
     * the two threads. Metrics are named {@code PREFIX.packets}, {@code .bytes} and {@code .refused}.
     */
    public static EspGateway start(TunnelKeys k, End end, MeterRegistry registry, String prefix) throws IOException {
        String local = end == End.CARD ? k.cardOuter() : k.peerOuter();
        String remote = end == End.CARD ? k.peerOuter() : k.cardOuter();
        Tun tun = Tun.open(DEVICE, Set.of());
        DatagramChannel udp = null;
        try {
            NetInterface.setMtu(DEVICE, innerMtu(wireMtu()));
            // A TUN drops what its ring cannot hold (no back-pressure), and one 64K packet from the host becomes ~47
            // tunnel packets at once: 500, the default, lost ~3 % of a host → wire stream; the ring takes 4096.
            ip("link", "set", "dev", DEVICE, "txqueuelen", Integer.toString(RING));
            NetInterface.setUp(DEVICE, true);
            udp = DatagramChannel.open();
            // room for a burst while the other thread is busy: the kernel caps it at net.core.rmem_max
            udp.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
            udp.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
            udp.bind(new InetSocketAddress(local, PORT));
            udp.connect(new InetSocketAddress(remote, PORT));
            // the opening thread waits in a selector, so it knows when a burst has ended (TcpCoalescer)
            udp.configureBlocking(false);
            route(k, end);
            EspGateway g = new EspGateway(tun, udp, registry, prefix);
            TunnelKeys.Sa out = end == End.CARD ? k.toPeer() : k.toCard();
            TunnelKeys.Sa in = end == End.CARD ? k.toCard() : k.toPeer();
            g.thread("esp-seal", () -> g.seal(new EspCodec(out, k.esp())));
            g.thread("esp-open", () -> g.open(new EspCodec(in, k.esp())));
            log.info("ESP tunnel up: {} {}:{} ⇄ {}:{}, {} (SPI out {}, in {}), {} mtu {}", end, local, PORT, remote, PORT,
                    k.esp().id(), out.spiHex(), in.spiHex(), DEVICE, NetInterface.mtu(DEVICE));
            return g;
        } catch (IOException | RuntimeException e) {
            if (udp != null) {
                udp.close();
            }
            tun.close();
            throw e;
        }
    }

    /** The inner packets' MTU: what fits in one wire packet once ESP, UDP and the outer IP header are added. */
    static int innerMtu(int wireMtu) {
        return (wireMtu - OUTER - EspCodec.OVERHEAD) & ~3;
    }

    private static int wireMtu() {
        try {
            return NetInterface.mtu("eth0");
        } catch (IOException e) {
            return 1500;
        }
    }

    /**
     * The card: what the host sends toward the wire (arriving on host0) goes to esp0, by a rule of its own, so the
     * card's own traffic with the peer, and the ESP packets themselves, still take eth0. The peer: the host's link
     * is reached through esp0 instead of through the card in the clear.
     */
    private static void route(TunnelKeys k, End end) throws IOException {
        if (end == End.CARD) {
            try {
                // a card-node restarted in the same namespace (`lab restart card-node`) finds its rule there
                ip("rule", "del", "iif", "host0", "to", k.peerPrefix(), "lookup", TABLE, "priority", "100");
            } catch (IOException absent) {
                // the usual case: a new namespace
            }
            ip("rule", "add", "iif", "host0", "to", k.peerPrefix(), "lookup", TABLE, "priority", "100");
            ip("route", "replace", k.peerPrefix(), "dev", DEVICE, "table", TABLE);
        } else {
            ip("route", "replace", k.cardPrefix(), "dev", DEVICE);
        }
    }

    private static void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        io.cardnet.netdev.Subprocess.run(cmd, java.time.Duration.ofSeconds(10)).orThrow();
    }

    private void thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    /** esp0 → ESP → UDP. */
    private void seal(EspCodec codec) {
        ByteBuffer in = ByteBuffer.allocateDirect(VnetHeader.SIZE + 65535);
        ByteBuffer out = ByteBuffer.allocateDirect(65535 + 64);
        while (!closed) {
            try {
                if (!tun.awaitReadable(500)) {
                    continue;
                }
                // everything the kernel queued, then wait again: one poll per burst, not per packet
                while (true) {
                    in.clear();
                    int n = tun.read(in);
                    if (n == 0) {
                        break;
                    }
                    in.flip().position(VnetHeader.SIZE);
                    if (n <= VnetHeader.SIZE || (in.get(VnetHeader.SIZE) & 0xf0) != 0x40) {
                        continue; // only IPv4 crosses this tunnel
                    }
                    out.clear();
                    codec.seal(in, out);
                    out.flip();
                    int sent = out.remaining();
                    while (udp.write(out) == 0 && !closed) {
                        java.util.concurrent.locks.LockSupport.parkNanos(20_000);   // the socket's buffer is full
                    }
                    sealedPackets.increment();
                    sealedBytes.increment(sent);
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (Exception e) {
                if (!closed) {
                    warn("sealing a packet for the tunnel: " + e);
                }
            }
        }
    }

    /** UDP → checked and decrypted → joined into runs of one TCP flow → esp0, a run at the end of each burst. */
    private void open(EspCodec codec) {
        ByteBuffer in = ByteBuffer.allocateDirect(65535);
        ByteBuffer out = ByteBuffer.allocateDirect(65535 + 64);
        TcpCoalescer runs = new TcpCoalescer();
        try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
            udp.register(selector, java.nio.channels.SelectionKey.OP_READ);
            while (!closed) {
                try {
                    in.clear();
                    if (udp.receive(in) == null) {
                        if (!runs.isEmpty()) {
                            deliver(runs.drain());
                        }
                        selector.select(500);
                        selector.selectedKeys().clear();
                        continue;
                    }
                    in.flip();
                    int size = in.remaining();
                    out.clear();
                    int inner;
                    try {
                        inner = codec.open(in, out);
                    } catch (EspCodec.Refused r) {
                        refused.get(r.reason()).increment();
                        warn("ESP packet refused: " + r.getMessage());
                        continue;
                    }
                    ByteBuffer packet = out.limit(inner).position(0);
                    if (!runs.add(packet)) {
                        deliver(runs.drain());
                        runs.add(packet);
                    }
                    openedPackets.increment();
                    openedBytes.increment(size);
                } catch (ClosedChannelException e) {
                    return;
                } catch (Exception e) {
                    if (!closed) {
                        warn("delivering a packet from the tunnel: " + e);
                    }
                }
            }
        } catch (IOException e) {
            if (!closed) {
                log.error("the tunnel's receiving thread stopped: {}", e.toString());
            }
        }
    }

    private void deliver(ByteBuffer packet) throws IOException {
        tun.write(packet);
    }

    private synchronized void warn(String message) {
        long now = System.nanoTime();
        if (now - lastWarning > 1_000_000_000L) {   // at most one line a second; the counters count all
            lastWarning = now;
            log.warn(message);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            udp.close();
        } catch (IOException e) {
            log.debug("closing the tunnel's socket: {}", e.toString());
        }
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        tun.close();
    }
}
