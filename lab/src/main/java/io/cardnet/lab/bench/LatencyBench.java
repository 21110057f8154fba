package io.cardnet.lab.bench;

import io.cardnet.card.CardNodeConfig;
import io.cardnet.card.services.EchoService;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.netdev.NetNamespace;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * `cardnet bench latency`: request/response round trips over TCP to the card's echo service, for each message
 * size, against the same round trips over a veth pair (the kernel-only path) measured in the same run.
 */
public final class LatencyBench {
    private static final int VETH_ECHO_PORT = 5107;

    /** Round-trip statistics of one size on one path, in microseconds. */
    public record Stats(String path, int size, int count, double p50, double p99, double max) {
    }

    /** The whole run; {@code ratios} are card p50 / veth p50 per size. */
    public record Report(String startedAt, String link, List<Stats> card, List<Stats> veth, Map<Integer, Double> ratios) {
    }

    private final List<Integer> sizes;
    private final int count;
    private final int warmup;
    private final String link;
    private final Consumer<String> progress;

    public LatencyBench(List<Integer> sizes, int count, int warmup, String link, Consumer<String> progress) {
        for (int s : sizes) {
            if (s < 1 || s > 1 << 20) {
                throw new IllegalArgumentException("--size values must be 1..1048576 bytes, not " + s);
            }
        }
        if (count < 10) {
            throw new IllegalArgumentException("--count must be at least 10 round trips, was " + count);
        }
        io.cardnet.link.model.LinkProfile.parse(link);
        this.sizes = List.copyOf(sizes);
        this.count = count;
        this.warmup = warmup;
        this.link = link;
        this.progress = progress;
    }

    public Report run() throws Exception {
        String started = Instant.now().toString();
        List<Stats> card = new ArrayList<>();
        progress.accept("bringing up lab benchlat");
        try (Lab lab = Lab.up(LabConfig.defaults("benchlat").withIsolated(true), line -> { })) {
            ControlClient.request(lab.runDir().resolve("control.sock"), Map.of("op", "set", "model", link));
            InetSocketAddress echo = new InetSocketAddress("198.18.0.2", CardNodeConfig.ECHO_PORT);
            for (int size : sizes) {
                card.add(NetNamespace.call(lab.hostNamespace(), () -> measure("card", echo, size)));
                progress.accept(describe(card.getLast()));
            }
        }
        List<Stats> veth = new ArrayList<>();
        try (VethPair pair = VethPair.up(65535);
             EchoService server = NetNamespace.call(VethPair.B, () -> EchoService.start(VETH_ECHO_PORT, new SimpleMeterRegistry()))) {
            InetSocketAddress echo = new InetSocketAddress(VethPair.ADDRESS_B, VETH_ECHO_PORT);
            for (int size : sizes) {
                veth.add(NetNamespace.call(VethPair.A, () -> measure("veth", echo, size)));
                progress.accept(describe(veth.getLast()));
            }
        }
        Map<Integer, Double> ratios = new java.util.LinkedHashMap<>();
        for (int i = 0; i < sizes.size(); i++) {
            ratios.put(sizes.get(i), card.get(i).p50() / veth.get(i).p50());
        }
        return new Report(started, link, card, veth, ratios);
    }

    /** {@code count} timed round trips of {@code size} bytes after {@code warmup} untimed ones, on one connection. */
    private Stats measure(String path, InetSocketAddress to, int size) throws IOException {
        byte[] message = new byte[size];
        new java.util.SplittableRandom(size).nextBytes(message);
        byte[] back = new byte[size];
        double[] micros = new double[count];
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(to, 3000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int i = -warmup; i < count; i++) {
                long t0 = System.nanoTime();
                out.write(message);
                in.readFully(back);
                long t1 = System.nanoTime();
                if (i >= 0) {
                    micros[i] = (t1 - t0) / 1e3;
                }
            }
            if (!Arrays.equals(message, back)) {
                throw new IOException("the echo at " + to + " returned different bytes");
            }
        }
        Arrays.sort(micros);
        return new Stats(path, size, count, percentile(micros, 0.50), percentile(micros, 0.99), micros[micros.length - 1]);
    }

    static double percentile(double[] sorted, double p) {
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static String describe(Stats s) {
        return String.format("%s, %d-byte messages: p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d round trips",
                s.path(), s.size(), s.p50(), s.p99(), s.max(), s.count());
    }

    /** The table for people. */
    public static String markdown(Report r) {
        StringBuilder b = new StringBuilder("# cardnet bench latency\n\nStarted " + r.startedAt() + ", link " + r.link()
                + ". TCP request/response to the card's echo service; veth pair as the baseline.\n\n");
        b.append("| size | path | p50 µs | p99 µs | max µs | p50 × veth |\n|---:|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < r.card().size(); i++) {
            Stats c = r.card().get(i);
            Stats v = r.veth().get(i);
            b.append(String.format(java.util.Locale.ROOT, "| %d | card | %.0f | %.0f | %.0f | %.1f |%n", c.size(), c.p50(),
                    c.p99(), c.max(), r.ratios().get(c.size())));
            b.append(String.format(java.util.Locale.ROOT, "| %d | veth | %.0f | %.0f | %.0f | 1.0 |%n", v.size(), v.p50(),
                    v.p99(), v.max()));
        }
        return b.toString();
    }
}
