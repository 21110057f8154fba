package io.cardnet.lab.bench;

import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.tools.StallWatch;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A host application sending a file with sendfile(2) ({@code FileChannel.transferTo} to a socket) to a sink,
 * which answers with its byte count and SHA-256. Run it on a thread inside the sender's namespace.
 */
final class SendfileTransfer {
    private SendfileTransfer() {
    }

    /** What one transfer did: bytes, wall time, the sending thread's CPU, and the sink's report. */
    record Outcome(long bytes, double seconds, double threadCpuSeconds, TransferReport sink) {
    }

    static Outcome send(InetSocketAddress to, Path file) throws IOException {
        var threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ); SocketChannel ch = SocketChannel.open()) {
            try {
                ch.connect(to);
            } catch (IOException e) {
                throw new IOException("cannot connect to the sink at " + to + ": " + e.getMessage(), e);
            }
            long size = in.size();
            long sent = 0;
            try (StallWatch watch = StallWatch.on(ch)) {
                while (sent < size) {
                    sent += in.transferTo(sent, size - sent, ch);
                    watch.moved(sent);
                }
                TransferReport report = TransferReport.awaitFrom(ch, to, sent);
                double seconds = (System.nanoTime() - start) / 1e9;
                double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
                return new Outcome(sent, seconds, cpu, report);
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("the transfer to " + to + " made no progress for " + StallWatch.STALL.toSeconds()
                        + " s after " + sent + " of " + size + " bytes", e);
            }
        }
    }
}
