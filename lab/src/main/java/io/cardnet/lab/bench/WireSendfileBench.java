package io.cardnet.lab.bench;

import io.cardnet.card.relay.RelayMove;
import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabNames;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sink;
import io.cardnet.netdev.NetInterface;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * `cardnet bench sendfile --target wire`: a host application sends a file with sendfile(2) to a sink on the wire
 * peer, either routed by the card ({@code --via route}: the host's TCP runs at the wire's MSS) or relayed by it
 * ({@code --via relay}: the host's TCP ends on the card at the bus's 64K MSS, and the card's own TCP continues at the
 * wire's). Each way gets its own isolated lab (the relay is switched at lab start), removed at the end; toe0 and
 * host0 keep the bus's 64K MTU and the wire runs each {@code --wire-mtu}.
 *
 * <p>Per row: goodput; the host sender's CPU and its kernel part; host-bridge's CPU and its kernel part; the
 * machine's kernel CPU (/proc/stat: on this one machine that also holds the card's and the wire peer's kernels);
 * card-node's CPU; and the TCP segments the host's namespace sent and received (/proc/net/snmp OutSegs, InSegs), the
 * direct evidence of the MSS the host ran at and of the acknowledgements it had to take in.
 *
 * <p>The goal is judged on the sender's kernel time: that is the host application's own cost. host-bridge's is shown
 * beside it because every packet the card sends the host (the acknowledgements) enters the host's kernel in
 * host-bridge's TUN write, where the host's IP and TCP receive work runs; most of host-bridge's kernel time, though,
 * is its TUN reads, the copy that stands for the card's DMA, which a real host does not pay.
 */
public final class WireSendfileBench {
    private static final double GIB = 1L << 30;
    private static final int SINK_PORT = 5201;
    /** The relay moving bytes through user space ({@code --relay-move copy}); plain {@code relay} splices. */
    static final String RELAY_COPY = "relay-copy";
    /** The goal is stated at this wire MTU. */
    public static final int GOAL_WIRE_MTU = 1500;

    /** What to run: ways (route, relay), wire MTUs, and the transfers per row. */
    public record Spec(List<String> vias, List<Integer> wireMtus, long size, int runs, int warmup, IntegrityCheck verify) {
        public Spec {
            vias = List.copyOf(vias);
            wireMtus = List.copyOf(wireMtus);
            for (String v : vias) {
                if (!v.equals("route") && !v.equals("relay") && !v.equals(RELAY_COPY)) {
                    throw new IllegalArgumentException("--via takes route, relay and/or relay-copy, not '" + v + "'");
                }
            }
            for (int m : wireMtus) {
                if (m < 576 || m > 65535) {
                    throw new IllegalArgumentException("--wire-mtu values must be 576..65535, not " + m);
                }
            }
            if (vias.isEmpty() || wireMtus.isEmpty()) {
                throw new IllegalArgumentException("--via and --wire-mtu need at least one value");
            }
            if (size < 1 << 20 || runs < 1 || warmup < 0) {
                throw new IllegalArgumentException("--size must be at least 1M, --runs at least 1, --warmup at least 0");
            }
        }
    }

    /** One way at one wire MTU: medians and costs per GiB over the timed runs. */
    public record Row(String via, int wireMtu, double medianGbps, double minGbps, double maxGbps,
                      double senderCpuSecondsPerGiB, double senderKernelSecondsPerGiB, double bridgeCpuSecondsPerGiB,
                      double bridgeKernelSecondsPerGiB, double kernelCpuSecondsPerGiB, double cardCpuSecondsPerGiB,
                      double hostSegmentsPerGiB, double hostInSegmentsPerGiB, boolean intact, boolean sha256Ok) {
    }

    /**
     * Whether relay met the goal at {@link #GOAL_WIRE_MTU} (null when a way is missing): kernel CPU ratio by the
     * sender's own kernel time and by the machine's, and goodput ratio.
     */
    public record Goal(Double senderKernelRatio, Double machineKernelRatio, Double goodputRatio, String verdict) {
    }

    public record Report(String startedAt, long size, int runs, int warmup, IntegrityCheck verify, List<Row> rows,
                         Goal goal) {
    }

    private final Spec spec;
    private final Consumer<String> progress;

    public WireSendfileBench(Spec spec, Consumer<String> progress) {
        this.spec = spec;
        this.progress = progress;
    }

    public Report run() throws Exception {
        String started = Instant.now().toString();
        BenchPayload payload = BenchPayload.write(spec.size());
        try {
            List<Row> rows = new ArrayList<>();
            for (String via : spec.vias()) {
                String name = "benchw" + via.replace("relay-", "");
                boolean relay = !via.equals("route");
                RelayMove move = via.equals(RELAY_COPY) ? RelayMove.COPY : RelayMove.SPLICE;
                progress.accept("bringing up lab " + name + " (relay " + (relay ? "on, " + move.option() : "off") + ")");
                try (Lab lab = Lab.up(LabConfig.defaults(name).withIsolated(true)
                        .withRelay(new LabConfig.Relay(relay, LabConfig.Relay.FIRMWARE.maxConnections(), move)), l -> { })) {
                    lab.warmUp(false); // the data path compiled before anything is timed, as after `lab up`
                    for (int mtu : spec.wireMtus()) {
                        rows.add(row(lab, via, mtu, payload));
                    }
                }
            }
            return new Report(started, spec.size(), spec.runs(), spec.warmup(), spec.verify(), rows, goal(rows));
        } finally {
            payload.delete();
        }
    }

    private Row row(Lab lab, String via, int wireMtu, BenchPayload payload) throws Exception {
        setWireMtu(lab, wireMtu);
        String peer = lab.config().addresses().peerWire().address().getHostAddress();
        InetSocketAddress to = new InetSocketAddress(peer, SINK_PORT);
        List<double[]> timed = new ArrayList<>();
        boolean intact = true;
        boolean sha256Ok = false;
        int transfers = Math.max(1, spec.warmup()) + spec.runs();
        try (Sink sink = NetNamespace.call(lab.names().wireNamespace(), () -> Sink.listen(to))) {
            for (int i = 0; i < transfers; i++) {
                boolean isTimed = i >= Math.max(1, spec.warmup());
                IntegrityCheck check = i == 0 ? IntegrityCheck.SHA256 : spec.verify();
                long[] segs0 = lab.onHostSide(HostTcpSegments::outAndIn);
                double kernel0 = CpuClock.kernelSeconds();
                long cardPid = lab.pid(Component.CARD_NODE);
                long bridgePid = lab.pid(Component.HOST_BRIDGE);
                double card0 = CpuClock.processSeconds(cardPid);
                double bridge0 = CpuClock.processSeconds(bridgePid);
                double bridgeKernel0 = CpuClock.processKernelSeconds(bridgePid);
                SendfileTransfer.Outcome o = SendfileTransfer.toSink(sink, lab.hostNamespace(), to, payload.file(), check);
                double kernel = CpuClock.kernelSeconds() - kernel0;
                double card = CpuClock.processSeconds(cardPid) - card0;
                double bridge = CpuClock.processSeconds(bridgePid) - bridge0;
                double bridgeKernel = CpuClock.processKernelSeconds(bridgePid) - bridgeKernel0;
                long[] segs1 = lab.onHostSide(HostTcpSegments::outAndIn);
                long segs = segs1[0] - segs0[0];
                long inSegs = segs1[1] - segs0[1];
                boolean ok = o.sink().agrees(payload.size(), check, payload.value(check));
                sha256Ok |= i == 0 && ok;
                double gbps = o.bytes() * 8 / o.seconds() / 1e9;
                if (isTimed) {
                    intact &= ok;
                    timed.add(new double[]{o.bytes(), gbps, o.threadCpuSeconds(), o.threadKernelSeconds(), bridge,
                            bridgeKernel, kernel, card, segs, inSegs});
                }
                progress.accept(String.format(Locale.ROOT, "via %-5s wire mtu %5d %s %d: %.2f Gb/s, host segments %,d out"
                        + " %,d in (%s)%s", via, wireMtu, isTimed ? "run" : "warm-up", i + 1, gbps, segs, inSegs,
                        check.id(), ok ? "" : "  MISMATCH"));
            }
        }
        double gib = timed.stream().mapToDouble(t -> t[0]).sum() / GIB;
        double[] g = timed.stream().mapToDouble(t -> t[1]).toArray();
        return new Row(via, wireMtu, SendfileBench.median(g), java.util.Arrays.stream(g).min().orElse(0),
                java.util.Arrays.stream(g).max().orElse(0), sum(timed, 2) / gib, sum(timed, 3) / gib,
                sum(timed, 4) / gib, sum(timed, 5) / gib, sum(timed, 6) / gib, sum(timed, 7) / gib, sum(timed, 8) / gib,
                sum(timed, 9) / gib, intact, sha256Ok);
    }

    private static double sum(List<double[]> rows, int column) {
        return rows.stream().mapToDouble(t -> t[column]).sum();
    }

    /** The wire's MTU at both ends of the cable: the card's eth0 and the peer's. */
    private static void setWireMtu(Lab lab, int mtu) throws IOException {
        var r = lab.execOnCard(List.of("ip", "link", "set", "dev", LabNames.WIRE_DEVICE, "mtu", Integer.toString(mtu)),
                java.time.Duration.ofSeconds(30));
        if (!r.ok()) {
            throw new IOException("cannot set the card's " + LabNames.WIRE_DEVICE + " mtu to " + mtu + ": " + r.output());
        }
        Shell.ipIn(lab.names().wireNamespace(), "link", "set", "dev", LabNames.WIRE_DEVICE, "mtu", Integer.toString(mtu));
    }

    static Goal goal(List<Row> rows) {
        Row route = find(rows, "route");
        Row relay = find(rows, "relay");
        if (route == null || relay == null) {
            return new Goal(null, null, null, "not measured: needs --via route,relay at --wire-mtu " + GOAL_WIRE_MTU);
        }
        double sender = relay.senderKernelSecondsPerGiB() / route.senderKernelSecondsPerGiB();
        double machine = relay.kernelCpuSecondsPerGiB() / route.kernelCpuSecondsPerGiB();
        double goodput = relay.medianGbps() / route.medianGbps();
        boolean met = sender <= 0.5 && goodput >= 1.0;
        return new Goal(sender, machine, goodput, String.format(Locale.ROOT,
                "%s: at wire MTU %d the relay costs the host sender %.2f× route's kernel CPU per GiB (goal ≤ 0.5),"
                        + " the whole machine's kernel %.2f× (it also holds the card's and the peer's kernels), at %.2f×"
                        + " route's goodput (goal ≥ 1)", met ? "met" : "not met", GOAL_WIRE_MTU, sender, machine, goodput));
    }

    private static Row find(List<Row> rows, String via) {
        return rows.stream().filter(r -> r.via().equals(via) && r.wireMtu() == GOAL_WIRE_MTU).findFirst().orElse(null);
    }

    public static String markdown(Report r) {
        StringBuilder b = new StringBuilder("# cardnet bench sendfile --target wire\n\n");
        b.append(String.format(Locale.ROOT, "Started %s. %,d bytes per transfer, %d runs after %d warm-up; toe0 and host0"
                + " at MTU 65535 (the bus), the wire at the row's MTU.%n%n", r.startedAt(), r.size(), r.runs(), r.warmup()));
        b.append("| via | wire MTU | goodput Gb/s (median, min–max) | sender CPU s/GiB |"
                + " sender kernel s/GiB | host-bridge CPU s/GiB | host-bridge kernel s/GiB | machine kernel CPU s/GiB |"
                + " card CPU s/GiB | host TCP segments out/GiB | in/GiB | ").append(r.verify().id())
                .append(", every run | SHA-256 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for (Row w : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %.2f (%.2f–%.2f) | %.3f | %.3f | %.3f | %.3f | %.3f"
                            + " | %.3f | %,.0f | %,.0f | %s | %s |%n",
                    w.via(), w.wireMtu(), w.medianGbps(), w.minGbps(), w.maxGbps(), w.senderCpuSecondsPerGiB(), w.senderKernelSecondsPerGiB(), w.bridgeCpuSecondsPerGiB(),
                    w.bridgeKernelSecondsPerGiB(), w.kernelCpuSecondsPerGiB(), w.cardCpuSecondsPerGiB(),
                    w.hostSegmentsPerGiB(), w.hostInSegmentsPerGiB(), w.intact() ? "ok" : "**MISMATCH**",
                    w.sha256Ok() ? "ok" : "**MISMATCH**"));
        }
        b.append("\nGoal: ").append(r.goal().verdict()).append(".\n");
        return b.toString();
    }
}
