package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.link.capture.Pcapng;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "capture", mixinStandardHelpOptions = true,
        description = "Capture the packets crossing the bus into a pcapng file (raw IP link type). The direction is in each packet's flags (outbound = host→card), the descriptor (checksum state, sequence, ring slot, GSO) in its comment. Starting or stopping a capture does not disturb the link.",
        footer = {"", "Examples:",
                "  cardnet link capture -w bus.pcapng                  # until Ctrl-C",
                "  cardnet link capture -w bus.pcapng --duration 10s",
                "  cardnet link capture -w bus.pcapng --count 1000 --snaplen 128",
                "  tshark -r bus.pcapng -T fields -e frame.comment"})
final class CaptureCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

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
        Path socket = target.socket();
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("op", "capture");
        request.put("snaplen", snaplen);
        request.put("count", count);
        try (SocketChannel ch = io.cardnet.lab.runtime.ControlClient.open(socket, request)) {
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Channels.newInputStream(ch), 1 << 16));
            JsonNode started = JSON.readTree(readLine(in));
            if (started.has("error")) {
                throw new IOException("the simulator refused the capture: " + started.get("error").asText());
            }
            CountDownLatch done = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stop(ch);
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
                    stop(ch);
                });
            }
            if (!target.json) {
                System.err.println("cardnet: capturing the bus to " + file + (duration != null ? " for " + duration.toSeconds() + " s"
                        : count > 0 ? " until " + count + " packets" : "; Ctrl-C to stop"));
            }
            JsonNode summary;
            try (OutputStream out = Files.newOutputStream(file)) {
                out.write(Pcapng.fileHeader(snaplen));
                summary = copyBlocks(in, out);
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

    private static JsonNode copyBlocks(DataInputStream in, OutputStream out) throws IOException {
        while (true) {
            int kind;
            try {
                kind = in.readUnsignedByte();
            } catch (EOFException e) {
                throw new IOException("the simulator closed the capture without a summary (did it stop?)");
            }
            int len = in.readInt();
            byte[] bytes = in.readNBytes(len);
            if (kind == 1) {
                out.write(bytes);
            } else {
                return JSON.readTree(bytes);
            }
        }
    }

    private static String readLine(DataInputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            sb.append((char) c);
        }
        if (c < 0 && sb.isEmpty()) {
            throw new IOException("the simulator closed the control connection without answering");
        }
        return sb.toString();
    }

    private static void stop(SocketChannel ch) {
        try {
            synchronized (ch) {
                ch.write(ByteBuffer.wrap("stop\n".getBytes(StandardCharsets.UTF_8)));
            }
        } catch (IOException ignored) {
            // already closed: the capture is over
        }
    }
}
