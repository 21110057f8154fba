package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.link.port.ChecksumMode;

import java.util.List;

/** What a benchmark measured, as written to results.json. */
public final class Results {
    /**
     * A bench figure this far below iperf3's on the same path means the bench's own sender or sink, not the path,
     * set the pace (goal: within 20 %).
     */
    public static final double TOOL_LIMIT_RATIO = 0.8;

    private Results() {
    }

    /**
     * One transfer. CPU is in seconds; counters are deltas over the transfer. {@code expected} is the sender's
     * value of {@code check} over the payload (computed once, off the clock), {@code received} the sink's over what
     * arrived; {@code intact} when they and the byte counts agree.
     */
    public record Run(long bytes, double seconds, double gbps, IntegrityCheck check, String expected, String received,
                      boolean intact, double senderCpuSeconds, double kernelCpuSeconds, double cardCpuSeconds,
                      long interrupts, long doorbells) {
    }

    /**
     * A configuration's result: goodput median and spread over the timed runs, costs per GiB, the model's prediction
     * where the link paces (null if unlimited), the ratio to the veth baseline at the same MTU and to the TUN relay
     * with the same settings (what the machine allows a TUN path), whether the veth baseline says the bench's
     * sender was the limit, whether every timed run's check agreed, and whether the case's SHA-256 transfer did.
     */
    public record Case(BenchCase config, List<Run> runs, double medianGbps, double minGbps, double maxGbps,
                       double senderCpuSecondsPerGiB, double kernelCpuSecondsPerGiB, double cardCpuSecondsPerGiB,
                       double interruptsPerGiB, double doorbellsPerGiB, Double predictedGbps, double vethGbps,
                       double ratioToVeth, double relayGbps, double ratioToRelay, boolean toolLimited, boolean intact,
                       boolean sha256Ok) {
    }

    /**
     * A reference path measured with the bench's own sender and sink and with iperf3 -Z, in the same run.
     *
     * @param name        "veth" (the kernel-only path) or "tun-relay" (two TUNs and one forwarding thread)
     * @param medianGbps  the bench's sender, median of the timed runs
     * @param iperf3Gbps  iperf3 -Z, one stream (null when iperf3 is not installed or failed)
     * @param toolLimited the bench's figure is below {@link #TOOL_LIMIT_RATIO} of iperf3's: the tool was the limit
     * @param busyCores   CPU cores the whole machine kept busy during the iperf3 run (2.0 = both, saturated)
     * @param relayCpu    for the relay: its forwarding thread's share of one core during the iperf3 run
     *                    (near 1.0 = the relay itself was the limit); null for veth
     * @param sha256Ok    the series' SHA-256 transfer agreed end to end
     */
    public record Reference(String name, int mtu, ChecksumMode csum, boolean offload, double medianGbps, List<Run> runs,
                            Double iperf3Gbps, boolean toolLimited, Double busyCores, Double relayCpu, boolean sha256Ok) {
    }

    /** iperf3 -Z over toe0 in the first lab, beside the same over the relay with the same settings. */
    public record Toe0Iperf3(Double gbps, int mtu, ChecksumMode csum, boolean offload, Double relayGbps,
                             Double ratioToRelay, String note) {
    }

    /**
     * The whole run. {@code verify} is the check of the timed runs; {@code integrity} says in words how every
     * transfer was checked.
     */
    public record Report(String startedAt, String machine, long size, int runs, int warmup, IntegrityCheck verify,
                         String integrity, List<Case> cases, List<Reference> baselines, List<Reference> relays,
                         Toe0Iperf3 iperf3) {
    }
}
