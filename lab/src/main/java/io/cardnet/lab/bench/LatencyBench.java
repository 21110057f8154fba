package io.cardnet.lab.bench;

import io.cardnet.card.CardNodeConfig;
import io.cardnet.card.services.EchoService;
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
 * `cardnet bench latency`: ICMP echo (the real {@code ping}) to the card, and request/response round trips over TCP
 * to the card's echo service for each message size, against the same over a veth pair (the kernel-only path)
 * measured in the same run.
 */
public final class LatencyBench {
    private static final int VETH_ECHO_PORT = 5107;

    /** Round-trip statistics of one size on one path, in microseconds. */
    public record Stats(String path, int size, int count, double p50, double p99, double max) {
    }

    /**
     * The whole run; {@code wakeUpsPerPing}: per ping pattern, how often each lab process's bus thread slept and was
     * woken per round trip to the card ({@link WakeUps}); {@code ratios} are card p50 / veth p50 per TCP message size, {@code pingRatios} the same per
     * ping pattern; {@code busyPollMicros} the lab's adaptive-polling limit (0: its bus threads never poll).
     */
    public record Report(String startedAt, String link, long busyPollMicros, List<Stats> ping, Map<String, Double> pingRatios,
                         List<Stats> card, List<Stats> veth, Map<Integer, Double> ratios,
                         Map<String, Map<String, Double>> wakeUpsPerPing) {
    }

    /**
     * How pings are spaced. Ten milliseconds apart, the CPUs idle between probes and every hop pays for waking
     * one; adaptive ({@code ping -A}) sends the next probe as soon as the reply is in, so they stay awake.
     */
    enum PingPattern {
        SPACED("10 ms apart", "-i", "0.01"),
        ADAPTIVE("back to back (ping -A)", "-A");

        final String label;
        final List<String> args;

        PingPattern(String label, String... args) {
            this.label = label;
            this.args = List.of(args);
        }
    }

    private final List<Integer> sizes;
    private final int count;
    private final int warmup;
    private final String link;
    private final Consumer<String> progress;
    private final java.time.Duration busyPoll;

    public LatencyBench(List<Integer> sizes, int count, int warmup, String link, Consumer<String> progress) {
        this(sizes, count, warmup, link, java.time.Duration.ZERO, progress);
    }

    /** {@code busyPoll}: the adaptive-polling limit of the lab this bench brings up (a running lab keeps its own). */
    public LatencyBench(List<Integer> sizes, int count, int warmup, String link, java.time.Duration busyPoll,
                        Consumer<String> progress) {
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
        this.busyPoll = busyPoll;
    }

    /** Measures in an isolated lab of its own, removed at the end. */
    public Report run() throws Exception {
        progress.accept("bringing up lab benchlat");
        try (Lab lab = Lab.up(LabConfig.defaults("benchlat").withIsolated(true).withBusyPoll(busyPoll), line -> { })) {
            return measure(lab);
        }
    }

    /** Measures in a lab that is already up; its link model is put back at the end. */
    public Report runOn(Lab lab) throws Exception {
        String model = lab.linkModel();
        progress.accept("using lab " + lab.config().name() + " (link " + model + ", put back at the end)");
        try {
            return measure(lab);
        } finally {
            lab.setLinkModel(model);
        }
    }

    private Report measure(Lab lab) throws Exception {
        String started = Instant.now().toString();
        lab.setLinkModel(link);
        List<Stats> ping = new ArrayList<>();
        List<Stats> card = new ArrayList<>();
        InetSocketAddress echo = new InetSocketAddress(lab.cardAddress(), CardNodeConfig.ECHO_PORT);
        for (int size : sizes) {
            card.add(lab.onHostSide(() -> measure("card", echo, size)));
            progress.accept(describe(card.getLast()));
        }
        Map<String, Map<String, Double>> wakeUps = new java.util.LinkedHashMap<>();
        // heartbeats and the simulator's counter reads wake the bus threads without any traffic: measured idle
        // first, and taken off what the pings cost
        Map<String, Double> idlePerSecond = WakeUps.idleRate(lab, java.time.Duration.ofSeconds(2));
        wakeUps.put("idle, per second", idlePerSecond);
        for (PingPattern p : PingPattern.values()) {
            Map<io.cardnet.lab.runtime.Component, Long> before = WakeUps.snapshot(lab);
            long t0 = System.nanoTime();
            ping.add(ping("card", lab.hostNamespace(), lab.cardAddress(), p));
            double seconds = (System.nanoTime() - t0) / 1e9;
            wakeUps.put(p.label, WakeUps.perRoundTrip(before, WakeUps.snapshot(lab), warmup + count, idlePerSecond,
                    seconds));
            progress.accept(describe(ping.getLast()) + "; bus-thread wake-ups per ping " + wakeUps.get(p.label));
        }
        List<Stats> veth = new ArrayList<>();
        try (VethPair pair = VethPair.up(65535);
             EchoService server = NetNamespace.call(VethPair.B, () -> EchoService.start(VETH_ECHO_PORT, new SimpleMeterRegistry()))) {
            InetSocketAddress vethEcho = new InetSocketAddress(VethPair.ADDRESS_B, VETH_ECHO_PORT);
            for (int size : sizes) {
                veth.add(NetNamespace.call(VethPair.A, () -> measure("veth", vethEcho, size)));
                progress.accept(describe(veth.getLast()));
            }
            for (PingPattern p : PingPattern.values()) {
                ping.add(ping("veth", VethPair.A, VethPair.ADDRESS_B, p));
                progress.accept(describe(ping.getLast()));
            }
        }
        Map<Integer, Double> ratios = new java.util.LinkedHashMap<>();
        for (int i = 0; i < sizes.size(); i++) {
            ratios.put(sizes.get(i), card.get(i).p50() / veth.get(i).p50());
        }
        Map<String, Double> pingRatios = new java.util.LinkedHashMap<>();
        for (PingPattern p : PingPattern.values()) {
            pingRatios.put(p.label, ping.get(p.ordinal()).p50() / ping.get(PingPattern.values().length + p.ordinal()).p50());
        }
        return new Report(started, link, lab.config().busyPoll().toNanos() / 1000, ping, pingRatios, card, veth, ratios, wakeUps);
    }

    /**
     * {@code count} echo requests of the real {@code ping} (56 bytes of payload) after {@code warmup} untimed ones,
     * from namespace {@code ns} (null: this one); the per-reply times it prints are the samples.
     */
    private Stats ping(String path, String ns, String address, PingPattern pattern) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ping", "-n", "-c", Integer.toString(warmup + count)));
        cmd.addAll(pattern.args);
        cmd.add(address);
        io.cardnet.lab.runtime.Shell.Result r = io.cardnet.lab.runtime.Shell.run(
                io.cardnet.lab.runtime.Shell.inNamespace(ns, cmd), 60 + (warmup + count) / 50);
        List<Double> times = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("time=([0-9.]+) ms").matcher(r.output());
        while (m.find()) {
            times.add(Double.parseDouble(m.group(1)) * 1000);
        }
        if (times.size() < count) {
            throw new IOException("ping " + address + " (" + pattern.label + ") got " + times.size() + " of "
                    + (warmup + count) + " replies: " + r.output().lines().reduce((a, b) -> b).orElse(""));
        }
        double[] micros = times.subList(times.size() - count, times.size()).stream().mapToDouble(Double::doubleValue)
                .sorted().toArray();
        return new Stats("ping " + path + ", " + pattern.label, 56, count, percentile(micros, 0.50),
                percentile(micros, 0.99), micros[micros.length - 1]);
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
        if (s.path().startsWith("ping")) {
            return String.format("%s: p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d pings", s.path(), s.p50(), s.p99(),
                    s.max(), s.count());
        }
        return String.format("%s, %d-byte messages: p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d round trips",
                s.path(), s.size(), s.p50(), s.p99(), s.max(), s.count());
    }

    /** The table for people. */
    public static String markdown(Report r) {
        StringBuilder b = new StringBuilder("# cardnet bench latency\n\nStarted " + r.startedAt() + ", link " + r.link()
                + (r.busyPollMicros() > 0 ? ", adaptive polling up to " + r.busyPollMicros() + " µs" : ", no polling")
                + ". ICMP echo (ping, 56 bytes) to the card, and TCP request/response to the card's echo service; a"
                + " veth pair as the baseline.\n\n");
        b.append("| ping | path | p50 µs | p99 µs | max µs | p50 × veth |\n|---|---|---:|---:|---:|---:|\n");
        int patterns = PingPattern.values().length;
        for (PingPattern p : PingPattern.values()) {
            Stats c = r.ping().get(p.ordinal());
            Stats v = r.ping().get(patterns + p.ordinal());
            b.append(String.format(java.util.Locale.ROOT, "| %s | card | %.0f | %.0f | %.0f | %.1f |%n", p.label, c.p50(),
                    c.p99(), c.max(), r.pingRatios().get(p.label)));
            b.append(String.format(java.util.Locale.ROOT, "| %s | veth | %.0f | %.0f | %.0f | 1.0 |%n", p.label, v.p50(),
                    v.p99(), v.max()));
        }
        b.append('\n');
        b.append("Bus-thread wake-ups per ping to the card (voluntary context switches of each process's event loops,"
                + " counted by the kernel; the idle rate, measured first, is taken off):\n\n| ping | ");
        List<String> components = r.wakeUpsPerPing().values().stream().findFirst().map(m -> List.copyOf(m.keySet()))
                .orElse(List.of());
        b.append(String.join(" | ", components)).append(" | total |\n|---|");
        b.append("---:|".repeat(components.size() + 1)).append('\n');
        r.wakeUpsPerPing().forEach((pattern, perComponent) -> {
            b.append("| ").append(pattern).append(" | ");
            for (String c : components) {
                b.append(String.format(java.util.Locale.ROOT, "%.2f | ", perComponent.getOrDefault(c, 0.0)));
            }
            b.append(String.format(java.util.Locale.ROOT, "%.2f |%n",
                    perComponent.values().stream().mapToDouble(Double::doubleValue).sum()));
        });
        b.append('\n');
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
