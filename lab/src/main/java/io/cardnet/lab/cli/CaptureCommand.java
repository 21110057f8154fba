package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.BusCapture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "capture", mixinStandardHelpOptions = true,
        description = "Capture the packets crossing the bus into a pcapng file (raw IP link type). The direction is in each packet's flags (outbound = host→card), the descriptor (checksum state, sequence, ring slot, GSO) in its comment. Starting or stopping a capture does not disturb the link.",
        footer = {"", "Examples:",
                "  cardnet link capture -w bus.pcapng                  # until Ctrl-C",
                "  cardnet link capture -w bus.pcapng --duration 10s",
                "  cardnet link capture -w bus.pcapng --count 1000 --snaplen 128",
                "  cardnet link capture -w card1.pcapng --card 1 --duration 10s        # card 1's link only",
                "  cardnet link capture -w c1.pcapng --runtime compose --card 1 --duration 10s   # the compose lab's card1",
                "  tshark -r bus.pcapng -T fields -e frame.comment"})
final class CaptureCommand implements Callable<Integer> {
    @Mixin
    LinkCommand.Target target;

    @Option(names = {"-w", "--write"}, required = true, description = "The pcapng file to write.")
    Path file;

    @Option(names = "--duration", converter = Converters.DurationConverter.class,
            description = "Stop after this long (default: until Ctrl-C or --count).")
    Duration duration;

    @Option(names = "--count", defaultValue = "0", description = "Stop after this many packets (0 = no limit).")
    long count;

    @Option(names = "--snaplen", defaultValue = "65535", description = "Bytes kept of each packet, 64..65535 (default: ${DEFAULT-VALUE}).")
    int snaplen;

    @Override
    public Integer call() throws Exception {
        try (BusCapture capture = BusCapture.start(target.socket(), snaplen, count)) {
            CountDownLatch done = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                capture.stop();
                try {
                    done.await();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "capture-stop");
            Runtime.getRuntime().addShutdownHook(hook);
            if (duration != null) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(duration);
                    } catch (InterruptedException e) {
                        return;
                    }
                    capture.stop();
                });
            }
            if (!target.json) {
                System.err.println("cardnet: capturing the bus to " + file + (duration != null ? " for " + duration.toSeconds() + " s"
                        : count > 0 ? " until " + count + " packets" : "; Ctrl-C to stop"));
            }
            JsonNode summary;
            try (OutputStream out = Files.newOutputStream(file)) {
                summary = capture.copyTo(out);
            } finally {
                done.countDown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and waits for the file to be complete, which it now is
            }
            if (target.json) {
                Output.json(System.out, summary);
            } else {
                long carried = 0;
                for (String d : new String[]{"h2c", "c2h"}) {
                    carried += summary.path("end").path(d).asLong() - summary.path("start").path(d).asLong();
                }
                System.out.printf("%s: %,d packets captured, %,d dropped by a slow reader; the bus carried %,d in the window%n",
                        file, summary.path("captured").asLong(), summary.path("dropped").asLong(), carried);
            }
            return 0;
        }
    }
}
