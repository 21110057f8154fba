package io.cardnet.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.services.SinkService;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabNames;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.lab.tools.Sink;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * `cardnet bench sendfile`: a host application sends a file with sendfile(2) to the card's sink (h2c), or the card
 * sends it to a sink on the host (c2h), for every configuration of the matrix. The same sender over a veth pair
 * at the same MTU is the baseline every result is compared with. Each case's lab is isolated, so nothing of the
 * caller's namespace changes, and everything is removed at the end.
 */
public final class SendfileBench {
    private static final double GIB = 1L << 30;
    private static final int HOST_SINK_PORT = 5101;
    private static final int VETH_SINK_PORT = 5102;
    private static final java.time.Duration WARM_UP = java.time.Duration.ofSeconds(5);

    private final BenchSpec spec;
    private final Consumer<String> progress;
    private Path payload;
    private String payloadSha;

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
        payload = Files.createTempFile("cardnet-bench", ".bin");
        try {
            payloadSha = writePayload(payload, spec.size());
            Map<Integer, Results.Baseline> veth = new LinkedHashMap<>();
            for (int mtu : spec.mtus().stream().distinct().toList()) {
                veth.put(mtu, vethBaseline(mtu));
            }
            List<Results.Case> cases = new ArrayList<>();
            String iperf3 = "not installed";
            List<BenchCase> all = spec.cases();
            int index = 0;
            for (ChecksumMode csum : spec.csums()) {
                for (boolean offload : spec.offloads()) {
                    List<BenchCase> group = all.stream().filter(c -> c.csum() == csum && c.offload() == offload).toList();
                    Lab lab = labs.open(csum, offload);
                    try {
                        warmUp(lab, group);
                        for (BenchCase c : group) {
                            index++;
                            cases.add(runCase(lab, c, index, all.size(), veth.get(c.mtu())));
                        }
                        if (iperf3.equals("not installed") && Iperf3.installed()) {
                            iperf3 = iperf3OverToe0(lab);
                        }
                    } finally {
                        labs.done(lab);
                    }
                }
            }
            return new Results.Report(started, machine(), spec.size(), spec.runs(), spec.warmup(), cases,
                    List.copyOf(veth.values()), iperf3);
        } finally {
            Files.deleteIfExists(payload);
        }
    }

    // ------------------------------------------------------------------ labs and cases

    private Lab labFor(ChecksumMode csum, boolean offload) throws IOException {
        String name = "bench" + (csum == ChecksumMode.UNNECESSARY ? "u" : "v") + (offload ? "o" : "n");
        progress.accept("bringing up lab " + name + " (checksums " + csum.name().toLowerCase() + ", offload "
                + (offload ? "on" : "off") + ")");
        return Lab.up(LabConfig.defaults(name).withIsolated(true).withCsum(csum).withOffload(offload), line -> { });
    }

    private Results.Case runCase(Lab lab, BenchCase c, int index, int total, Results.Baseline veth) throws Exception {
        setMtu(lab, c.mtu());
        lab.setLinkModel(c.link());
        List<Results.Run> runs = new ArrayList<>();
        JsonNode firstBefore = null;
        JsonNode lastAfter = null;
        for (int i = 0; i < spec.warmup() + spec.runs(); i++) {
            boolean warm = i < spec.warmup();
            JsonNode before = lab.linkStatus();
            Results.Run run = transfer(lab, c);
            JsonNode after = lab.linkStatus();
            if (!warm) {
                runs.add(withCounters(run, before, after));
                firstBefore = firstBefore == null ? before : firstBefore;
                lastAfter = after;
            }
            progress.accept(String.format("[%d/%d] %-48s %s %d/%d: %.2f Gb/s%s", index, total, c.label(),
                    warm ? "warm-up" : "run", warm ? i + 1 : i - spec.warmup() + 1, warm ? spec.warmup() : spec.runs(),
                    run.gbps(), run.sha256Ok() ? "" : "  SHA-256 MISMATCH"));
        }
        Double predicted = null;
        if (LinkProfile.parse(c.link()).paced()) {
            predicted = LinkPrediction.forDirection(c.link(), c.direction(), firstBefore, lastAfter).predictedGbps();
        }
        return summarize(c, runs, predicted, veth.medianGbps());
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
                transfer(lab, c);
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

    /** One timed transfer of the payload in the case's direction, checked end to end. */
    private Results.Run transfer(Lab lab, BenchCase c) throws Exception {
        double kernel0 = CpuClock.kernelSeconds();
        long cardPid = lab.pid(Component.CARD_NODE);
        double card0 = CpuClock.processSeconds(cardPid);
        SendfileTransfer.Outcome o;
        TransferReport received;
        if (c.hostToCard()) {
            o = lab.onHostSide(() -> SendfileTransfer.send(new InetSocketAddress(lab.cardAddress(),
                    io.cardnet.card.CardNodeConfig.SINK_PORT), payload));
            received = o.sink();
        } else {
            try (Sink sink = lab.onHostSide(() -> Sink.listen(new InetSocketAddress(lab.hostAddress(), HOST_SINK_PORT)))) {
                CompletableFuture<TransferReport> r = acceptInBackground(sink);
                o = NetNamespace.call(lab.names().cardNamespace(),
                        () -> SendfileTransfer.send(new InetSocketAddress(lab.hostAddress(), HOST_SINK_PORT), payload));
                received = r.get(5, TimeUnit.MINUTES);
            }
        }
        double kernel = CpuClock.kernelSeconds() - kernel0;
        double card = CpuClock.processSeconds(cardPid) - card0;
        boolean ok = received.bytes() == spec.size() && received.sha256().equals(payloadSha);
        return new Results.Run(o.bytes(), o.seconds(), o.bytes() * 8 / o.seconds() / 1e9, ok, o.threadCpuSeconds(),
                kernel, card, 0, 0);
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
        return new Results.Run(r.bytes(), r.seconds(), r.gbps(), r.sha256Ok(), r.senderCpuSeconds(),
                r.kernelCpuSeconds(), r.cardCpuSeconds(), interrupts, doorbells);
    }

    private static CompletableFuture<TransferReport> acceptInBackground(Sink sink) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return sink.acceptOne();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    // ------------------------------------------------------------------ baselines

    private Results.Baseline vethBaseline(int mtu) throws Exception {
        progress.accept("baseline: veth pair, mtu " + mtu);
        List<Results.Run> runs = new ArrayList<>();
        try (VethPair veth = VethPair.up(mtu);
             Sink sink = NetNamespace.call(VethPair.B,
                     () -> Sink.listen(new InetSocketAddress(VethPair.ADDRESS_B, VETH_SINK_PORT)))) {
            for (int i = 0; i < spec.warmup() + spec.runs(); i++) {
                double kernel0 = CpuClock.kernelSeconds();
                CompletableFuture<TransferReport> r = acceptInBackground(sink);
                SendfileTransfer.Outcome o = NetNamespace.call(VethPair.A,
                        () -> SendfileTransfer.send(new InetSocketAddress(VethPair.ADDRESS_B, VETH_SINK_PORT), payload));
                TransferReport received = r.get(5, TimeUnit.MINUTES);
                boolean ok = received.bytes() == spec.size() && received.sha256().equals(payloadSha);
                Results.Run run = new Results.Run(o.bytes(), o.seconds(), o.bytes() * 8 / o.seconds() / 1e9, ok,
                        o.threadCpuSeconds(), CpuClock.kernelSeconds() - kernel0, 0, 0, 0);
                if (i >= spec.warmup()) {
                    runs.add(run);
                }
                progress.accept(String.format("[veth %d] %s: %.2f Gb/s", mtu, i < spec.warmup() ? "warm-up" : "run",
                        run.gbps()));
            }
        }
        return new Results.Baseline("veth", mtu, median(runs.stream().mapToDouble(Results.Run::gbps).toArray()), runs);
    }

    private String iperf3OverToe0(Lab lab) {
        try {
            setMtu(lab, 65535);
            lab.setLinkModel("unlimited");
            double gbps = lab.runtime() == io.cardnet.lab.runtime.LabRuntime.VM
                    ? Iperf3.runAgainstCard(lab, 5)
                    : Iperf3.run(lab.names().cardNamespace(), lab.hostNamespace(), lab.cardAddress(), 5);
            progress.accept(String.format("baseline: iperf3 -Z over toe0 (mtu 65535, unlimited): %.2f Gb/s", gbps));
            return String.format("%.2f Gb/s (iperf3 -Z, one stream, mtu 65535, unlimited, checksums %s)", gbps,
                    lab.config().csum().name().toLowerCase());
        } catch (Exception e) {
            return "failed: " + e.getMessage();
        }
    }

    // ------------------------------------------------------------------ numbers

    static Results.Case summarize(BenchCase c, List<Results.Run> runs, Double predicted, double vethGbps) {
        double[] g = runs.stream().mapToDouble(Results.Run::gbps).toArray();
        double gib = runs.stream().mapToLong(Results.Run::bytes).sum() / GIB;
        double median = median(g);
        return new Results.Case(c, runs, median, java.util.Arrays.stream(g).min().orElse(0),
                java.util.Arrays.stream(g).max().orElse(0),
                runs.stream().mapToDouble(Results.Run::senderCpuSeconds).sum() / gib,
                runs.stream().mapToDouble(Results.Run::kernelCpuSeconds).sum() / gib,
                runs.stream().mapToDouble(Results.Run::cardCpuSeconds).sum() / gib,
                runs.stream().mapToLong(Results.Run::interrupts).sum() / gib,
                runs.stream().mapToLong(Results.Run::doorbells).sum() / gib,
                predicted, vethGbps, median / vethGbps, runs.stream().allMatch(Results.Run::sha256Ok));
    }

    static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        if (v.length == 0) {
            return 0;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String writePayload(Path file, long size) throws IOException {
        MessageDigest sha = SinkService.sha256();
        byte[] block = new byte[1 << 20];
        SplittableRandom random = new SplittableRandom(size);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += block.length) {
                random.nextBytes(block);
                int n = (int) Math.min(block.length, size - written);
                out.write(block, 0, n);
                sha.update(block, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String machine() {
        return Runtime.getRuntime().availableProcessors() + " CPUs, "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MiB JVM heap max, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + ", Java "
                + System.getProperty("java.version");
    }
}
