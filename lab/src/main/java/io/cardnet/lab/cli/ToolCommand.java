package io.cardnet.lab.cli;

import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.tools.Sender;
import io.cardnet.lab.tools.Sink;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "tool", mixinStandardHelpOptions = true,
        description = "Traffic tools for the lab: send bytes to a sink and check both ends' SHA-256.",
        subcommands = {ToolCommand.Send.class, ToolCommand.SinkCmd.class})
final class ToolCommand {

    @Command(name = "send", mixinStandardHelpOptions = true,
            description = "Send SIZE bytes over TCP to a sink, then compare byte count and SHA-256 with the sink's report. Exits 1 if they differ.",
            footer = {"", "Examples:",
                    "  cardnet tool send --to 198.18.0.2:9 --size 1G          # to the card's sink, across the bus",
                    "  cardnet tool send --to 198.19.0.1:5001 --size 256M     # to a `tool sink` on the wire peer, routed by the card"})
    static final class Send implements Callable<Integer> {
        @Option(names = "--to", required = true, description = "HOST:PORT of the sink.")
        String to;

        @Option(names = "--size", defaultValue = "1G", converter = Converters.SizeConverter.class,
                description = "Bytes to send: 65536, 64K, 256M, 1G (default: ${DEFAULT-VALUE}).")
        long size;

        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            var target = Converters.hostPort(to, "--to");
            long[] lastShown = {0};
            boolean live = !json && System.console() != null;
            Sender.Result r = Sender.send(target, size, sent -> {
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
                System.out.printf("%s: %,d bytes in %.2f s = %.2f Gb/s; sha256 %s; sink %s%n", r.target(), r.bytes(),
                        r.seconds(), r.gbps(), r.sha256(), r.match() ? "agrees" : "DISAGREES: " + r.sink());
            }
            return r.match() ? 0 : 1;
        }
    }

    @Command(name = "sink", mixinStandardHelpOptions = true,
            description = "Listen for `tool send` transfers; count and hash each, and answer with the report.")
    static final class SinkCmd implements Callable<Integer> {
        @Option(names = "--listen", defaultValue = "0.0.0.0:5001", description = "HOST:PORT to listen on (default: ${DEFAULT-VALUE}).")
        String listen;

        @Option(names = "--once", description = "Exit after one transfer.")
        boolean once;

        @Option(names = "--json", description = "Print each report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            try (Sink sink = Sink.listen(Converters.hostPort(listen, "--listen"))) {
                System.err.println("cardnet: sink listening on " + listen);
                do {
                    TransferReport r = sink.acceptOne();
                    if (json) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("bytes", r.bytes());
                        m.put("sha256", r.sha256());
                        Output.json(System.out, m);
                    } else {
                        System.out.printf("received %,d bytes, sha256 %s%n", r.bytes(), r.sha256());
                    }
                    System.out.flush();
                } while (!once);
            }
            return 0;
        }
    }
}
