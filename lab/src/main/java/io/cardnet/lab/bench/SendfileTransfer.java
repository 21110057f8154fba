package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.SinkRequest;
import io.cardnet.card.services.TransferReport;
import io.cardnet.lab.tools.Sink;
import io.cardnet.lab.tools.StallWatch;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A host application sending a file with sendfile(2) ({@code FileChannel.transferTo} to a socket) to a sink,
 * which answers with its byte count and the value of the check the sender asked for. The sender itself checks
 * nothing on the clock: the file's values are known before it starts. Run it on a thread inside the sender's
 * namespace.
 */
final class SendfileTransfer {
    private SendfileTransfer() {
    }

    /**
     * What one transfer did: bytes, wall time, the sending thread's CPU (and the kernel's part of it: sendfile, TCP
     * segmentation and what softirq work ran on its time), and the sink's report.
     */
    record Outcome(long bytes, double seconds, double threadCpuSeconds, double threadKernelSeconds, TransferReport sink) {
        /** As a timed run of {@code payload} under {@code check}, with the CPU the caller measured around it. */
        Results.Run toRun(BenchPayload payload, IntegrityCheck check, double kernelCpuSeconds, double cardCpuSeconds) {
            String expected = payload.value(check);
            return new Results.Run(bytes, seconds, bytes * 8 / seconds / 1e9, check, expected, sink.value(),
                    sink.agrees(payload.size(), check, expected), threadCpuSeconds, kernelCpuSeconds, cardCpuSeconds,
                    0, 0);
        }
    }

    /**
     * One transfer from a thread in {@code senderNs} to {@code sink}, which this process serves meanwhile (its
     * socket already lives in its own namespace).
     */
    static Outcome toSink(Sink sink, String senderNs, InetSocketAddress to, Path file, IntegrityCheck check)
            throws Exception {
        CompletableFuture<TransferReport> served = CompletableFuture.supplyAsync(() -> {
            try {
                return sink.acceptOne();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Outcome o;
        try {
            o = NetNamespace.call(senderNs, () -> send(to, file, check));
        } catch (Exception e) {
            // The sink's side of the story, if it has one: a sink that failed closes without a report.
            try {
                served.get(2, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException sinkFailure) {
                throw new IOException(e.getMessage() + "; the sink: " + sinkFailure.getCause(), e);
            } catch (java.util.concurrent.TimeoutException | InterruptedException ignored) {
                // the sink is still waiting: the sender's failure is the whole story
            }
            throw e;
        }
        served.get(5, TimeUnit.MINUTES);
        return o;
    }

    static Outcome send(InetSocketAddress to, Path file, IntegrityCheck check) throws IOException {
        var threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long user0 = threads.getCurrentThreadUserTime();
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
                SinkRequest.write(ch, check);
                while (sent < size) {
                    sent += in.transferTo(sent, size - sent, ch);
                    watch.moved(sent);
                }
                TransferReport report = TransferReport.awaitFrom(ch, to, sent);
                double seconds = (System.nanoTime() - start) / 1e9;
                double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
                double user = (threads.getCurrentThreadUserTime() - user0) / 1e9;
                return new Outcome(sent, seconds, cpu, cpu - user, report);
            } catch (java.nio.channels.AsynchronousCloseException e) {
                throw new IOException("the transfer to " + to + " made no progress for " + StallWatch.STALL.toSeconds()
                        + " s after " + sent + " of " + size + " bytes", e);
            }
        }
    }
}
