package io.cardnet.lab.bench;

import java.util.List;

/** What a benchmark measured, as written to results.json. */
public final class Results {
    private Results() {
    }

    /** One timed transfer. CPU is in seconds; counters are deltas over the transfer. */
    public record Run(long bytes, double seconds, double gbps, boolean sha256Ok, double senderCpuSeconds,
                      double kernelCpuSeconds, double cardCpuSeconds, long interrupts, long doorbells) {
    }

    /**
     * A configuration's result: goodput median and spread over the runs, costs per GiB, the model's prediction
     * where the link paces (null if unlimited), and the ratio to the veth baseline at the same MTU.
     */
    public record Case(BenchCase config, List<Run> runs, double medianGbps, double minGbps, double maxGbps,
                       double senderCpuSecondsPerGiB, double kernelCpuSecondsPerGiB, double cardCpuSecondsPerGiB,
                       double interruptsPerGiB, double doorbellsPerGiB, Double predictedGbps, double vethGbps,
                       double ratioToVeth, boolean sha256Ok) {
    }

    /** A baseline: the same sendfile between two namespaces over a veth pair (the kernel-only path). */
    public record Baseline(String name, int mtu, double medianGbps, List<Run> runs) {
    }

    /** The whole run. */
    public record Report(String startedAt, String machine, long size, int runs, int warmup, List<Case> cases,
                         List<Baseline> baselines, String iperf3) {
    }
}
