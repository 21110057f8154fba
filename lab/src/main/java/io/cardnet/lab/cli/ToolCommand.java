package io.cardnet.lab.cli;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tool", mixinStandardHelpOptions = true,
        description = "Traffic tools for the lab: send bytes to a sink and compare both ends' byte count and check"
                + " value (CRC32C by default, SHA-256 with --verify sha256).",
        subcommands = {ToolCommand.Send.class, ToolCommand.SinkCmd.class, EspPeerCmd.class, LabKeysCmd.class})
final class ToolCommand {

    @Command(name = "send", mixinStandardHelpOptions = true,
            description = {"Send SIZE bytes over TCP to a sink, then compare the byte count and check value with the sink's"
                    + " report. Exits 1 if they differ.",
                    "",
                    "It sends like `iperf3 -Z`, so the rate is the path's and not the tool's: a pseudo-random pattern is"
                    + " written once to a file and sent with sendfile(2), and the sender computes its check value over"
                    + " the whole stream before the clock starts. The sink checks every byte that arrives, with the"
                    + " check the sender asks for in its first line: CRC32C (the CPU's CRC instruction, far faster than"
                    + " the link) unless --verify sha256 asks for a cryptographic digest, which one core of these busy"
                    + " 2-core machines computes at about 1 GB/s (8 Gb/s): then the digest, not the path, can set the"
                    + " pace."},
            footer = {"", "Examples:",
                    "  # to the card's sink, across the bus",
                    "  cardnet tool send --to 198.18.0.2:9 --size 1G",
                    "  # both ends hash with SHA-256",
                    "  cardnet tool send --to 198.18.0.2:9 --size 1G --verify sha256",
                    "  # to a `tool sink` on the wire peer, routed by the card",
                    "  cardnet tool send --to 198.19.0.1:5001 --size 256M",
                    "  # the same path for comparison, with `iperf3 -s` running on the card",
                    "  iperf3 -Z -c 198.18.0.2"})
    static final class Send implements Callable<Integer> {
        @Option(names = "--to", required = true, description = "HOST:PORT of the sink.")
        String to;

        @Option(names = "--size", defaultValue = "1G", converter = Converters.SizeConverter.class,
                description = "Bytes to send: 65536, 64K, 256M, 1G (default: ${DEFAULT-VALUE}).")
        long size;

        @Option(names = "--verify", defaultValue = "crc32c", paramLabel = "CHECK",
                description = "The check both ends run over the bytes: crc32c (fast) or sha256 (default: ${DEFAULT-VALUE}).")
        String verify;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            var target = Converters.hostPort(to, "--to");
            IntegrityCheck check = IntegrityCheck.parse(verify);
            long[] lastShown = {0};
            boolean live = !json && System.console() != null;
            Sender.Result r = Sender.send(target, size, check, sent -> {
                if (live && (sent - lastShown[0] >= (64L << 20) || sent == size)) {
                    lastShown[0] = sent;
                    System.err.printf("\rcardnet: sent %,d of %,d bytes", sent, size);
                }
            });
            if (json) {
                Output.json(System.out, r);
            } else {
                if (live) {
                    System.err.println();
                }
                System.out.printf("%s: %,d bytes in %.2f s = %.2f Gb/s; %s %s; sink %s%n", r.target(), r.bytes(),
                        r.seconds(), r.gbps(), r.check().id(), r.value(), r.match() ? "agrees" : "DISAGREES: " + r.sink());
            }
            return r.match() ? 0 : 1;
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = {"Listen for `tool send` transfers; count and check each with the check its sender asks for,"
                    + " and answer with the report.",
                    "A sender that asks for none (plain nc) gets --verify; nc can ask by opening with the line"
                    + " `CARDNET-SINK verify=sha256` (last example)."},
            footer = {"", "Examples:",
                    "  cardnet tool sink --listen 0.0.0.0:5001 --once --json",
                    "  cardnet tool sink --verify sha256      # nc transfers get SHA-256 too",
                    "  { printf 'CARDNET-SINK verify=sha256\\n'; cat FILE; } | nc -N HOST 5001"})
    static final class SinkCmd implements Callable<Integer> {
        @Option(names = "--listen", defaultValue = "0.0.0.0:5001", description = "HOST:PORT to listen on (default: ${DEFAULT-VALUE}).")
        String listen;

        @Option(names = "--verify", defaultValue = "crc32c", paramLabel = "CHECK",
                description = "The check for senders that ask for none: crc32c or sha256 (default: ${DEFAULT-VALUE}).")
        String verify;

        @Option(names = "--once", description = "Exit after one transfer.")
        boolean once;

        @Option(names = "--json", description = "Print each report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Sink sink = Sink.listen(Converters.hostPort(listen, "--listen"), IntegrityCheck.parse(verify))) {
                System.err.println("cardnet: sink listening on " + listen);
                do {
                    TransferReport r = sink.acceptOne();
                    if (json) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("bytes", r.bytes());
                        m.put("check", r.check().id());
                        m.put("value", r.value());
                        Output.json(System.out, m);
                    } else {
                        System.out.printf("received %,d bytes, %s %s%n", r.bytes(), r.check().id(), r.value());
                    }
                    System.out.flush();
                } while (!once);
            }
            return 0;
        }
    }
}
