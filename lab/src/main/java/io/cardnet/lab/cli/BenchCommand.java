package io.cardnet.lab.cli;

import io.cardnet.lab.bench.BenchSpec;
import io.cardnet.lab.bench.ReportWriter;
import io.cardnet.lab.bench.Results;
import io.cardnet.lab.bench.SendfileBench;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.Privileges;
import io.cardnet.link.port.ChecksumMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks through the card, each against a kernel-only baseline measured in the same run.",
        subcommands = {BenchCommand.Sendfile.class, BenchCommand.Latency.class})
final class BenchCommand {

    /** {@code --lab NAME}: measure in a lab that is already up instead of bringing up isolated ones. */
    static final class LabOption {
        @Option(names = "--lab", paramLabel = "NAME",
                description = "Measure in this running lab (`cardnet lab up --name NAME`) instead of bringing up an"
                        + " isolated lab of its own. Its link model and MTU are changed while measuring and put back.")
        String name;

        @Option(names = "--run-dir", defaultValue = "/run/cardnet", hidden = true, description = "Parent of the labs' run directories.")
        Path runRoot;

        /** The running lab, or null when none was asked for. */
        Lab attach() throws java.io.IOException {
            return name == null ? null : Lab.attach(name, runRoot, s -> { });
        }
    }

    /** Where a benchmark's files go, and whether stdout gets JSON or the table. */
    static final class ResultsOptions {
        @Option(names = "--out", defaultValue = "results", description = "Where results/<time>/ goes (default: ${DEFAULT-VALUE}).")
        Path out;

        @Option(names = "--json", description = "Print the results as JSON instead of the table.")
        boolean json;

        /** A new directory for this run, named for the time it started. */
        Path newRunDir() throws java.io.IOException {
            Path dir = out.resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH-mm-ss")));
            java.nio.file.Files.createDirectories(dir);
            return dir;
        }

        /** The report as JSON, or the Markdown table and where the files are. */
        void print(Object report, String markdown, Path dir, String files) {
            if (json) {
                Output.json(System.out, report);
            } else {
                System.out.print(markdown);
                System.out.println("\nwritten to " + dir.resolve(files));
            }
        }
    }

    @Command(name = "sendfile", mixinStandardHelpOptions = true,
            description = {"A host application sends a file with sendfile(2) to the card's sink (h2c), or the card sends"
                    + " it to the host (c2h), for every combination of the matrix options. Each checksum/offload setting"
                    + " gets its own isolated lab, removed at the end. Writes results/<time>/results.json, results.md"
                    + " and goodput.png.",
                    "",
                    "References, measured in the same run with the same sender and sink and with iperf3 -Z: a veth pair"
                    + " at each MTU (the kernel alone) and a one-thread TUN relay with each case's settings (what this"
                    + " machine allows a TUN path: the \"× relay\" column). If the bench's figure over a reference is"
                    + " below 80% of iperf3's, the report says the tool was the limit there.",
                    "",
                    "Integrity: the payload's CRC32C and SHA-256 are computed once, off the clock; the sink checks every"
                    + " byte of every transfer (--verify, CRC32C by default, at link speed), and each case's first,"
                    + " untimed transfer is SHA-256-checked end to end."},
            footer = {"", "Examples:",
                    "  sudo ./cardnet bench sendfile                                        # 64K MTU, offload on, unlimited link",
                    "  sudo ./cardnet bench sendfile --mtu 1500,9000,65535 --offload off    # the 64K-MTU claim",
                    "  sudo ./cardnet bench sendfile --csum unnecessary,verify --link unlimited,gen3x4 --direction h2c,c2h",
                    "  sudo ./cardnet bench sendfile --lab lab --link gen3x4 --size 256M     # in the lab you already run",
                    "  sudo ./cardnet bench sendfile --target wire --via route,relay        # to the wire peer: routed vs the card's TCP relay"})
    static final class Sendfile implements Callable<Integer> {
        @Option(names = "--mtu", split = ",", defaultValue = "65535", description = "MTUs of toe0 and host0 (default: ${DEFAULT-VALUE}).")
        List<Integer> mtus;

        @Option(names = "--offload", split = ",",
                description = "on (TSO and checksum offload on toe0 and host0) and/or off (a plain NIC) (default: on, or"
                        + " the --lab's).")
        List<String> offloads;

        @Option(names = "--csum", split = ",", description = "unnecessary and/or verify (default: unnecessary, or the --lab's).")
        List<String> csums;

        @Option(names = "--link", split = ",", defaultValue = "unlimited", description = "Link models: unlimited, genGxL (default: ${DEFAULT-VALUE}).")
        List<String> links;

        @Option(names = "--direction", split = ",", defaultValue = "h2c", description = "h2c and/or c2h (default: ${DEFAULT-VALUE}).")
        List<String> directions;

        @Option(names = "--size", defaultValue = "1G", converter = Converters.SizeConverter.class,
                description = "Bytes per transfer (default: ${DEFAULT-VALUE}).")
        long size;

        @Option(names = "--runs", defaultValue = "3", description = "Timed transfers per configuration (default: ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--warmup", defaultValue = "1", description = "Untimed transfers first, so the JVMs are warm;"
                + " at least one is made, SHA-256-checked (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--verify", defaultValue = "crc32c", paramLabel = "CHECK",
                description = "The sink's check in timed runs: crc32c (at link speed) or sha256, which on a busy 2-core"
                        + " machine can become the limit (default: ${DEFAULT-VALUE}).")
        String verify;

        @Option(names = "--target", split = ",", defaultValue = "card",
                description = "card: the card's sink, the matrix above; wire: a sink on the wire peer, compared --via"
                        + " route and relay (writes wire.json, wire.md and wire.png) (default: ${DEFAULT-VALUE}).")
        List<String> targets;

        @Option(names = "--via", split = ",", defaultValue = "route,relay",
                description = "With --target wire: route (the card forwards; the host's TCP runs at the wire's MSS) and/or"
                        + " relay (the card's TCP relay; the host's TCP ends on the card at the bus's 64K MSS; its bytes"
                        + " moved by splice(2)) and/or relay-copy (the relay copying through user space, --relay-move"
                        + " copy) (default: ${DEFAULT-VALUE}).")
        List<String> vias;

        @Option(names = "--wire-mtu", split = ",", defaultValue = "1500",
                description = "With --target wire: MTUs of the wire (the card's eth0 and the peer's) (default: ${DEFAULT-VALUE}).")
        List<Integer> wireMtus;

        @picocli.CommandLine.Mixin
        ResultsOptions results;

        @picocli.CommandLine.Mixin
        LabOption lab;

        @Override
        public Integer call() throws Exception {
            Privileges.requireNetAdmin("cardnet bench sendfile");
            var check = io.cardnet.card.services.IntegrityCheck.parse(verify);
            for (String t : targets) {
                if (!t.equals("card") && !t.equals("wire")) {
                    throw new IllegalArgumentException("--target takes card and/or wire, not '" + t + "'");
                }
            }
            if (targets.contains("wire")) {
                if (lab.name != null) {
                    throw new IllegalArgumentException("--target wire brings up its own labs (one per --via);"
                            + " leave out --lab");
                }
                var wire = new io.cardnet.lab.bench.WireSendfileBench(new io.cardnet.lab.bench.WireSendfileBench.Spec(
                        vias, wireMtus, size, runs, warmup, check), Output.liveProgress());
                var report = wire.run();
                System.err.println();
                Path dir = results.newRunDir();
                Output.JSON.writeValue(dir.resolve("wire.json").toFile(), report);
                String md = io.cardnet.lab.bench.WireSendfileBench.markdown(report);
                java.nio.file.Files.writeString(dir.resolve("wire.md"), md);
                io.cardnet.lab.bench.ReportWriter.wireChart(report, dir.resolve("wire.png"));
                results.print(report, md, dir, "{wire.json,wire.md,wire.png}");
                boolean ok = report.rows().stream().allMatch(r -> r.intact() && r.sha256Ok());
                if (!targets.contains("card") || !ok) {
                    return ok ? 0 : 1;
                }
            }
            Lab existing = lab.attach();
            List<Boolean> offload = offloads == null
                    ? List.of(existing == null || existing.config().offload())
                    : offloads.stream().map(o -> Converters.onOff(o, "--offload")).toList();
            List<ChecksumMode> csum = csums == null
                    ? List.of(existing == null ? ChecksumMode.UNNECESSARY : existing.config().csum())
                    : csums.stream().map(ChecksumMode::parse).toList();
            BenchSpec spec = new BenchSpec(mtus, offload, csum, links, directions, size, runs, warmup, check);
            SendfileBench bench = new SendfileBench(spec, Output.liveProgress());
            Results.Report report = existing == null ? bench.run() : bench.runOn(existing);
            System.err.println();
            Path dir = results.newRunDir();
            ReportWriter.write(report, dir);
            results.print(report, ReportWriter.markdown(report), dir, "{results.json,results.md,goodput.png}");
            boolean intact = report.cases().stream().allMatch(c -> c.intact() && c.sha256Ok())
                    && java.util.stream.Stream.concat(report.baselines().stream(), report.relays().stream())
                            .allMatch(Results.Reference::sha256Ok);
            return intact ? 0 : 1;
        }
    }

    @Command(name = "latency", mixinStandardHelpOptions = true,
            description = "Round trips to the card (p50, p99, max): ping (10 ms apart and back to back) and TCP"
                    + " request/response to the card's echo service for each message size, against the same over a"
                    + " veth pair measured in the same run. Writes results/<time>/latency.json and latency.md.",
            footer = {"", "Examples:",
                    "  sudo ./cardnet bench latency                          # 64-byte and 64 KiB messages",
                    "  sudo ./cardnet bench latency --link gen3x4 --count 5000",
                    "  sudo ./cardnet bench latency --busy-poll 200         # with adaptive polling",
                    "  sudo ./cardnet bench latency --lab lab                # in the lab you already run"})
    static final class Latency implements Callable<Integer> {
        @Option(names = "--size", split = ",", defaultValue = "64,65536", description = "Message sizes in bytes (default: ${DEFAULT-VALUE}).")
        List<Integer> sizes;

        @Option(names = "--count", defaultValue = "2000", description = "Timed round trips per size (default: ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--warmup", defaultValue = "500", description = "Untimed round trips first (default: ${DEFAULT-VALUE}).")
        int warmup;

        @Option(names = "--link", defaultValue = "unlimited", description = "The link model (default: ${DEFAULT-VALUE}).")
        String link;

        @Option(names = "--busy-poll", paramLabel = "MICROS", defaultValue = "0",
                description = "The bench's own lab polls adaptively for up to MICROS µs (as `lab up --busy-poll`);"
                        + " with --lab, that lab's setting applies (default: ${DEFAULT-VALUE}).")
        long busyPollMicros;

        @picocli.CommandLine.Mixin
        ResultsOptions results;

        @picocli.CommandLine.Mixin
        LabOption lab;

        @Override
        public Integer call() throws Exception {
            io.cardnet.lab.bench.LatencyBench bench = new io.cardnet.lab.bench.LatencyBench(sizes, count, warmup, link,
                    java.time.Duration.ofNanos(busyPollMicros * 1000), Output.liveProgress());
            Privileges.requireNetAdmin("cardnet bench latency");
            Lab existing = lab.attach();
            var report = existing == null ? bench.run() : bench.runOn(existing);
            Path dir = results.newRunDir();
            Output.JSON.writeValue(dir.resolve("latency.json").toFile(), report);
            String md = io.cardnet.lab.bench.LatencyBench.markdown(report);
            java.nio.file.Files.writeString(dir.resolve("latency.md"), md);
            results.print(report, md, dir, "{latency.json,latency.md}");
            return 0;
        }
    }
}
