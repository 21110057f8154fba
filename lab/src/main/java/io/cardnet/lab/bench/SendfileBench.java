package io.cardnet.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabNames;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sink;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.port.ChecksumMode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * `cardnet bench sendfile`: a host application sends a file with sendfile(2) to the card's sink (h2c), or the card
 * sends it to a sink on the host (c2h), for every configuration of the matrix. Every result stands beside two
 * references measured in the same run ({@link ReferencePaths}): the same sender over a veth pair at the same MTU
 * (the kernel alone), and over a one-thread TUN relay with the case's settings (what the machine allows a TUN
 * path), each also measured with iperf3 -Z so the bench can say when its own sender or sink was the limit. Each
 * case's lab is isolated, so nothing of the caller's namespace changes, and everything is removed at the end.
 *
 * <p>Integrity without the cost landing in a run: the payload's CRC32C and SHA-256 are computed once while it is
 * written; the sink checks every byte of every transfer (CRC32C, at link speed, unless {@code --verify sha256});
 * and each series' first, untimed transfer is SHA-256-checked end to end.
 */
public final class SendfileBench {
    private static final double GIB = 1L << 30;
    private static final int HOST_SINK_PORT = 5101;
    /** Where iperf3 over toe0 runs: the lab's MTU for the 64K claim, the first lab's checksum and offload. */
    private static final int IPERF3_MTU = 65535;
    private static final java.time.Duration WARM_UP = java.time.Duration.ofSeconds(5);

    private final BenchSpec spec;
    private final Consumer<String> progress;
    private BenchPayload payload;

    public SendfileBench(BenchSpec spec, Consumer<String> progress) {
        this.spec = spec;
        this.progress = progress;
    }

    /** Runs the matrix, each checksum/offload setting in its own isolated lab, removed at the end. */
    public Results.Report run() throws Exception {
        return measure(new Labs() {
            @Override
            public Lab open(ChecksumMode csum, boolean offload) throws IOException {
                return labFor(csum, offload);
            }

            @Override
            public void done(Lab lab) {
                lab.close();
            }
        });
    }

    /**
     * Runs the matrix in a lab that is already up. Its checksum mode and offload are fixed, so the spec may
     * only ask for those; its MTUs and link model are changed per case and put back at the end.
     */
    public Results.Report runOn(Lab lab) throws Exception {
        ChecksumMode csum = lab.config().csum();
        boolean offload = lab.config().offload();
        if (!spec.csums().equals(List.of(csum)) || !spec.offloads().equals(List.of(offload))) {
            throw new IllegalArgumentException("lab '" + lab.config().name() + "' runs checksums "
                    + csum.name().toLowerCase() + " with offload " + (offload ? "on" : "off") + "; --csum and --offload"
                    + " can only be those with --lab (leave out --lab to get a lab per setting)");
        }
        if (lab.runtime() == io.cardnet.lab.runtime.LabRuntime.VM && spec.cases().stream().anyMatch(c -> !c.hostToCard())) {
            throw new IllegalArgumentException("lab '" + lab.config().name() + "' has a VM card: this bench's card→host"
                    + " sender runs in the card's namespace, which for a VM holds only its cable; measure --direction h2c"
                    + " here, and card → host with `cardnet card exec -- iperf3 -c " + lab.hostAddress() + "` against"
                    + " an iperf3 -s on the host side");
        }
        int mtu = lab.onHostSide(() -> io.cardnet.netdev.NetInterface.mtu(LabNames.HOST_DEVICE));
        String model = lab.linkModel();
        progress.accept("using lab " + lab.config().name() + " (mtu " + mtu + ", link " + model
                + "; both are put back at the end)");
        return measure(new Labs() {
            @Override
            public Lab open(ChecksumMode c, boolean o) {
                return lab;
            }

            @Override
            public void done(Lab l) throws IOException {
                setMtu(l, mtu);
                l.setLinkModel(model);
            }
        });
    }

    /** Where each checksum/offload group of cases runs, and what happens to that lab afterwards. */
    private interface Labs {
        Lab open(ChecksumMode csum, boolean offload) throws IOException;

        void done(Lab lab) throws IOException;
    }

    private Results.Report measure(Labs labs) throws Exception {
        String started = Instant.now().toString();
        progress.accept("writing the " + spec.size() + "-byte payload and its CRC32C and SHA-256 (off the clock)");
        payload = BenchPayload.write(spec.size());
        try {
            ReferencePaths references = new ReferencePaths(spec, payload, progress);
            Map<Integer, Results.Reference> veth = new LinkedHashMap<>();
            for (int mtu : spec.mtus().stream().distinct().toList()) {
                veth.put(mtu, references.veth(mtu));
            }
            List<BenchCase> all = spec.cases();
            // one relay per setting the cases use, plus the one iperf3 over toe0 (in the first lab) is compared with
            List<RelaySetting> settings = new ArrayList<>(all.stream().map(RelaySetting::of).distinct().toList());
            if (Iperf3.installed()) {
                settings.add(new RelaySetting(IPERF3_MTU, spec.csums().getFirst(), spec.offloads().getFirst()));
            }
            Map<RelaySetting, Results.Reference> relays = new LinkedHashMap<>();
            for (RelaySetting r : settings.stream().distinct().toList()) {
                relays.put(r, references.relay(r.mtu(), r.csum(), r.offload()));
            }
            List<Results.Case> cases = new ArrayList<>();
            Results.Toe0Iperf3 iperf3 = null;
            int index = 0;
            for (ChecksumMode csum : spec.csums()) {
                for (boolean offload : spec.offloads()) {
                    List<BenchCase> group = all.stream().filter(c -> c.csum() == csum && c.offload() == offload).toList();
                    Lab lab = labs.open(csum, offload);
                    try {
                        warmUp(lab, group);
                        for (BenchCase c : group) {
                            index++;
                            cases.add(runCase(lab, c, index, all.size(), veth.get(c.mtu()), relays.get(RelaySetting.of(c))));
                        }
                        if (iperf3 == null) {
                            iperf3 = iperf3OverToe0(lab, relays.get(new RelaySetting(IPERF3_MTU, csum, offload)));
                        }
                    } finally {
                        labs.done(lab);
                    }
                }
            }
            return new Results.Report(started, machine(), spec.size(), spec.runs(), spec.warmup(), spec.verify(),
                    integrity(spec), cases, List.copyOf(veth.values()), List.copyOf(relays.values()), iperf3);
        } finally {
            payload.delete();
        }
    }

    /** What a TUN relay reference is measured with: the settings of the lab it stands beside. */
    private record RelaySetting(int mtu, ChecksumMode csum, boolean offload) {
        static RelaySetting of(BenchCase c) {
            return new RelaySetting(c.mtu(), c.csum(), c.offload());
        }
    }

    /** How every transfer of this run was checked, in words, for the report. */
    static String integrity(BenchSpec spec) {
        return "The sender checks nothing on the clock: the payload's CRC32C and SHA-256 were computed once, while it"
                + " was written. The sink checks every byte of every transfer with the check the sender asks for: "
                + spec.verify().id() + " for timed runs"
                + (spec.verify() == io.cardnet.card.services.IntegrityCheck.CRC32C
                        ? " (the CPU's CRC32 instruction, far faster than any path here)" : "")
                + "; the first, untimed transfer of every case and reference is SHA-256-checked end to end.";
    }

    // ------------------------------------------------------------------ labs and cases

    private Lab labFor(ChecksumMode csum, boolean offload) throws IOException {
        String name = "bench" + (csum == ChecksumMode.UNNECESSARY ? "u" : "v") + (offload ? "o" : "n");
        progress.accept("bringing up lab " + name + " (checksums " + csum.name().toLowerCase() + ", offload "
                + (offload ? "on" : "off") + ")");
        return Lab.up(LabConfig.defaults(name).withIsolated(true).withCsum(csum).withOffload(offload), line -> { });
    }

    private Results.Case runCase(Lab lab, BenchCase c, int index, int total, Results.Reference veth,
                                 Results.Reference relay) throws Exception {
        setMtu(lab, c.mtu());
        lab.setLinkModel(c.link());
        List<Results.Run> runs = new ArrayList<>();
        JsonNode firstBefore = null;
        JsonNode lastAfter = null;
        boolean sha256Ok = false;
        for (int i = 0; i < spec.transfers(); i++) {
            boolean timed = spec.timed(i);
            JsonNode before = lab.linkStatus();
            Results.Run run = transfer(lab, c, spec.check(i));
            JsonNode after = lab.linkStatus();
            sha256Ok |= i == 0 && run.intact();
            if (timed) {
                runs.add(withCounters(run, before, after));
                firstBefore = firstBefore == null ? before : firstBefore;
                lastAfter = after;
            }
            progress.accept(String.format("[%d/%d] %-48s %s %d: %.2f Gb/s (%s)%s", index, total, c.label(),
                    timed ? "run" : "warm-up", i + 1, run.gbps(), run.check().id(),
                    run.intact() ? "" : "  " + run.check().id().toUpperCase() + " MISMATCH"));
        }
        Double predicted = null;
        if (LinkProfile.parse(c.link()).paced()) {
            predicted = LinkPrediction.forDirection(c.link(), c.direction(), firstBefore, lastAfter).predictedGbps();
        }
        return summarize(c, runs, predicted, veth, relay, sha256Ok);
    }

    /**
     * A new lab's three JVMs need seconds of traffic before their data paths are compiled: measured runs in a
     * cold lab came out at half the speed of the same runs later. So each new lab first moves traffic for
     * {@link #WARM_UP} in every direction its cases measure, on the first case's settings.
     */
    private void warmUp(Lab lab, List<BenchCase> group) throws Exception {
        progress.accept("warming up lab " + lab.config().name() + " for " + WARM_UP.toSeconds() + " s per direction");
        setMtu(lab, group.getFirst().mtu());
        for (String direction : group.stream().map(BenchCase::direction).distinct().toList()) {
            BenchCase c = new BenchCase(group.getFirst().mtu(), group.getFirst().offload(), group.getFirst().csum(),
                    "unlimited", direction);
            long until = System.nanoTime() + WARM_UP.toNanos();
            while (System.nanoTime() < until) {
                transfer(lab, c, spec.verify());
            }
        }
    }

    private static void setMtu(Lab lab, int mtu) throws IOException {
        Shell.ipIn(lab.hostNamespace(), "link", "set", "dev", LabNames.HOST_DEVICE, "mtu", Integer.toString(mtu));
        // on the card itself: its namespace, or inside its VM
        io.cardnet.lab.runtime.ExecResult r = lab.execOnCard(List.of("ip", "link", "set", "dev", LabNames.CARD_DEVICE,
                "mtu", Integer.toString(mtu)), java.time.Duration.ofSeconds(30));
        if (!r.ok()) {
            throw new IOException("cannot set the card's " + LabNames.CARD_DEVICE + " mtu to " + mtu + ": " + r.output());
        }
    }

    /** One timed transfer of the payload in the case's direction, checked end to end with {@code check}. */
    private Results.Run transfer(Lab lab, BenchCase c, io.cardnet.card.services.IntegrityCheck check) throws Exception {
        double kernel0 = CpuClock.kernelSeconds();
        long cardPid = lab.pid(Component.CARD_NODE);
        double card0 = CpuClock.processSeconds(cardPid);
        SendfileTransfer.Outcome o;
        if (c.hostToCard()) {
            o = lab.onHostSide(() -> SendfileTransfer.send(new InetSocketAddress(lab.cardAddress(),
                    io.cardnet.card.CardNodeConfig.SINK_PORT), payload.file(), check));
        } else {
            InetSocketAddress host = new InetSocketAddress(lab.hostAddress(), HOST_SINK_PORT);
            try (Sink sink = lab.onHostSide(() -> Sink.listen(host))) {
                o = SendfileTransfer.toSink(sink, lab.names().cardNamespace(), host, payload.file(), check);
            }
        }
        return o.toRun(payload, check, CpuClock.kernelSeconds() - kernel0, CpuClock.processSeconds(cardPid) - card0);
    }

    private static Results.Run withCounters(Results.Run r, JsonNode before, JsonNode after) {
        long interrupts = 0;
        long doorbells = 0;
        var names = after.path("counters").fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            long d = after.path("counters").path(n).asLong(0) - before.path("counters").path(n).asLong(0);
            if (n.startsWith("interrupt/")) {
                interrupts += d;
            } else if (n.startsWith("doorbell/")) {
                doorbells += d;
            }
        }
        return new Results.Run(r.bytes(), r.seconds(), r.gbps(), r.check(), r.expected(), r.received(), r.intact(),
                r.senderCpuSeconds(), r.kernelCpuSeconds(), r.cardCpuSeconds(), interrupts, doorbells);
    }

    /** iperf3 -Z over toe0 at the lab's 64K MTU, unlimited link, beside iperf3 over the relay with the same settings. */
    private Results.Toe0Iperf3 iperf3OverToe0(Lab lab, Results.Reference relay) {
        ChecksumMode csum = lab.config().csum();
        boolean offload = lab.config().offload();
        if (!Iperf3.installed()) {
            return new Results.Toe0Iperf3(null, IPERF3_MTU, csum, offload, null, null, "iperf3 is not installed");
        }
        try {
            setMtu(lab, IPERF3_MTU);
            lab.setLinkModel("unlimited");
            double gbps = lab.runtime() == io.cardnet.lab.runtime.LabRuntime.VM
                    ? Iperf3.runAgainstCard(lab, 5)
                    : Iperf3.run(lab.names().cardNamespace(), lab.hostNamespace(), lab.cardAddress(), 5);
            Double relayGbps = relay == null ? null : relay.iperf3Gbps();
            Double ratio = relayGbps == null ? null : gbps / relayGbps;
            progress.accept(String.format("iperf3 -Z over toe0 (mtu %d, unlimited): %.2f Gb/s%s", IPERF3_MTU, gbps,
                    ratio == null ? "" : String.format("; the relay allows %.2f (%.2f×)", relayGbps, ratio)));
            return new Results.Toe0Iperf3(gbps, IPERF3_MTU, csum, offload, relayGbps, ratio,
                    "iperf3 -Z, one stream, unlimited link");
        } catch (Exception e) {
            return new Results.Toe0Iperf3(null, IPERF3_MTU, csum, offload, null, null, "failed: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ numbers

    static Results.Case summarize(BenchCase c, List<Results.Run> runs, Double predicted, Results.Reference veth,
                                  Results.Reference relay, boolean sha256Ok) {
        double[] g = runs.stream().mapToDouble(Results.Run::gbps).toArray();
        double gib = runs.stream().mapToLong(Results.Run::bytes).sum() / GIB;
        double median = median(g);
        double relayGbps = relay == null ? Double.NaN : relay.medianGbps();
        return new Results.Case(c, runs, median, java.util.Arrays.stream(g).min().orElse(0),
                java.util.Arrays.stream(g).max().orElse(0),
                runs.stream().mapToDouble(Results.Run::senderCpuSeconds).sum() / gib,
                runs.stream().mapToDouble(Results.Run::kernelCpuSeconds).sum() / gib,
                runs.stream().mapToDouble(Results.Run::cardCpuSeconds).sum() / gib,
                runs.stream().mapToLong(Results.Run::interrupts).sum() / gib,
                runs.stream().mapToLong(Results.Run::doorbells).sum() / gib,
                predicted, veth.medianGbps(), median / veth.medianGbps(), relayGbps, median / relayGbps,
                veth.toolLimited(), runs.stream().allMatch(Results.Run::intact), sha256Ok);
    }

    static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        if (v.length == 0) {
            return 0;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " CPUs, "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MiB JVM heap max, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version");
    }
}
