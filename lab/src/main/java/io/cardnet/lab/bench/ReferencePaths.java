package io.cardnet.lab.bench;

import io.cardnet.lab.tools.Sink;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.netdev.NetNamespace;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

/**
 * The references every card figure stands beside, measured in the same run with the bench's own sender and sink
 * and with iperf3 -Z: a veth pair (the kernel alone: the most any path between two namespaces can move) and the
 * {@link TunRelay} (two TUNs and one forwarding thread: the most a TUN path like the card's can move). Each says
 * whether the bench's sender kept up with iperf3 on it, and how busy the machine was, so a reader can see that
 * the reference ran at what the machine allows and not at what the tool allows.
 */
final class ReferencePaths {
    private static final int SINK_PORT = 5102;
    /**
     * The relay is Java too: its loop needs seconds of traffic before it is compiled, as the lab's JVMs do (they get
     * {@link SendfileBench}'s warm-up), else its first timed runs measure the JIT, not the machine.
     */
    private static final java.time.Duration RELAY_WARM_UP = java.time.Duration.ofSeconds(3);
    /** Each iperf3 run: 3 s measured after 1 s omitted (iperf3 -O 1), one after each timed transfer of the bench. */
    private static final int IPERF3_SECONDS = 3;

    private final BenchSpec spec;
    private final BenchPayload payload;
    private final Consumer<String> progress;

    ReferencePaths(BenchSpec spec, BenchPayload payload, Consumer<String> progress) {
        this.spec = spec;
        this.payload = payload;
        this.progress = progress;
    }

    /** The kernel-only path at {@code mtu}. */
    Results.Reference veth(int mtu) throws Exception {
        progress.accept("reference: veth pair, mtu " + mtu);
        try (VethPair veth = VethPair.up(mtu)) {
            return measure("veth", mtu, ChecksumMode.UNNECESSARY, true, VethPair.A, VethPair.B, VethPair.ADDRESS_B, null,
                    java.time.Duration.ZERO);
        }
    }

    /** The one-thread TUN relay with a lab's settings. */
    Results.Reference relay(int mtu, ChecksumMode csum, boolean offload) throws Exception {
        progress.accept("reference: TUN relay, mtu " + mtu + ", checksums " + csum.name().toLowerCase() + ", offload "
                + (offload ? "on" : "off"));
        try (TunRelay relay = TunRelay.start(mtu, csum, offload)) {
            return measure("tun-relay", mtu, csum, offload, TunRelay.A, TunRelay.B, TunRelay.ADDRESS_B, relay::cpuSeconds,
                    RELAY_WARM_UP);
        }
    }

    /**
     * The bench's series over the path, with an iperf3 -Z run after each timed transfer: alternating the two, rather
     * than running one after the other, keeps a busy machine's drift (other work starting or stopping) out of their
     * ratio, which is what says whether the tool was the limit.
     */
    private Results.Reference measure(String name, int mtu, ChecksumMode csum, boolean offload, String senderNs,
                                      String sinkNs, String sinkAddress, DoubleSupplier pathCpu,
                                      java.time.Duration warmUp) throws Exception {
        List<Results.Run> runs = new ArrayList<>();
        Iperf3Series iperf3 = new Iperf3Series(name, senderNs, sinkNs, sinkAddress, pathCpu);
        boolean sha256Ok = false;
        InetSocketAddress to = new InetSocketAddress(sinkAddress, SINK_PORT);
        try (Sink sink = NetNamespace.call(sinkNs, () -> Sink.listen(to))) {
            long until = System.nanoTime() + warmUp.toNanos();
            while (System.nanoTime() < until) {
                SendfileTransfer.toSink(sink, senderNs, to, payload.file(), spec.verify());
            }
            for (int i = 0; i < spec.transfers(); i++) {
                double kernel0 = CpuClock.kernelSeconds();
                SendfileTransfer.Outcome o = SendfileTransfer.toSink(sink, senderNs, to, payload.file(), spec.check(i));
                Results.Run run = o.toRun(payload, spec.check(i), CpuClock.kernelSeconds() - kernel0, 0);
                sha256Ok |= i == 0 && run.intact();
                String line = String.format("[%s %d] %s: %.2f Gb/s%s", name, mtu, spec.timed(i) ? "run" : "warm-up",
                        run.gbps(), run.intact() ? "" : "  " + run.check().id().toUpperCase() + " MISMATCH");
                if (spec.timed(i)) {
                    runs.add(run);
                    Double g = iperf3.runOnce();
                    line += g == null ? "" : String.format("; iperf3 -Z %.2f Gb/s", g);
                }
                progress.accept(line);
            }
        }
        double median = SendfileBench.median(runs.stream().mapToDouble(Results.Run::gbps).toArray());
        Double iperf3Gbps = iperf3.medianGbps();
        boolean toolLimited = iperf3Gbps != null && median < Results.TOOL_LIMIT_RATIO * iperf3Gbps;
        progress.accept(describe(name, mtu, median, iperf3Gbps, iperf3.busyCores(), iperf3.pathCpu(), toolLimited));
        return new Results.Reference(name, mtu, csum, offload, median, runs, iperf3Gbps, toolLimited,
                iperf3.busyCores(), iperf3.pathCpu(), sha256Ok);
    }

    /** iperf3 -Z runs over one reference path, with the machine's busy CPUs and the path's own CPU while they ran. */
    private final class Iperf3Series {
        private final String name;
        private final String senderNs;
        private final String sinkNs;
        private final String sinkAddress;
        private final DoubleSupplier pathCpu;
        private final List<Double> gbps = new ArrayList<>();
        private double wall;
        private double busy;
        private double cpu;

        Iperf3Series(String name, String senderNs, String sinkNs, String sinkAddress, DoubleSupplier pathCpu) {
            this.name = name;
            this.senderNs = senderNs;
            this.sinkNs = sinkNs;
            this.sinkAddress = sinkAddress;
            this.pathCpu = pathCpu;
        }

        /** One run; its Gb/s, or null when iperf3 is not installed or failed (said on the console). */
        Double runOnce() {
            if (!Iperf3.installed()) {
                return null;
            }
            double busy0 = CpuClock.busySeconds();
            double cpu0 = pathCpu == null ? 0 : pathCpu.getAsDouble();
            long t0 = System.nanoTime();
            try {
                double g = Iperf3.run(sinkNs, senderNs, sinkAddress, IPERF3_SECONDS);
                wall += (System.nanoTime() - t0) / 1e9;
                busy += CpuClock.busySeconds() - busy0;
                cpu += pathCpu == null ? 0 : pathCpu.getAsDouble() - cpu0;
                gbps.add(g);
                return g;
            } catch (Exception e) {
                progress.accept("iperf3 over " + name + " failed: " + e.getMessage());
                return null;
            }
        }

        Double medianGbps() {
            return gbps.isEmpty() ? null : SendfileBench.median(gbps.stream().mapToDouble(Double::doubleValue).toArray());
        }

        /** CPUs the whole machine kept busy while iperf3 ran (its start-up included). */
        Double busyCores() {
            return wall == 0 ? null : busy / wall;
        }

        /** The relay thread's share of one core while iperf3 ran; null for a path without one. */
        Double pathCpu() {
            return wall == 0 || pathCpu == null ? null : cpu / wall;
        }
    }

    /** The console line for a reference: both figures, how busy the machine was, and the tool-limit verdict. */
    static String describe(String name, int mtu, double median, Double iperf3, Double busy, Double relayCpu,
                           boolean toolLimited) {
        StringBuilder b = new StringBuilder(String.format("%s, mtu %d: bench sender %.2f Gb/s", name, mtu, median));
        if (iperf3 == null) {
            return b.append("; iperf3 not measured").toString();
        }
        b.append(String.format(", iperf3 -Z %.2f Gb/s (%.2f×)", iperf3, median / iperf3));
        if (busy != null) {
            b.append(String.format("; machine busy %.1f cores", busy));
        }
        if (relayCpu != null) {
            b.append(String.format(", relay thread %.0f%% of a core", relayCpu * 100));
        }
        if (toolLimited) {
            b.append(String.format(": THE BENCH'S SENDER/SINK WAS THE LIMIT here (below %.0f%% of iperf3)",
                    Results.TOOL_LIMIT_RATIO * 100));
        }
        return b.toString();
    }
}
