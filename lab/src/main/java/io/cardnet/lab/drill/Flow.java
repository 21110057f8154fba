package io.cardnet.lab.drill;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.SinkRequest;
import io.cardnet.card.services.TransferReport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One TCP stream of drill traffic: paced random bytes into a sink, hashed on the way out, so that at the end
 * both ends' byte counts and SHA-256 say whether the stream survived the swap intact. A drill's flows are paced
 * at a few MiB/s, so SHA-256 costs them nothing and the report can name a cryptographic digest. The socket is
 * opened in the namespace of the sender; after that, any thread may use it.
 */
public final class Flow implements AutoCloseable {
    /**
     * Small enough that a write completes, and {@link #sent()} moves, as soon as the host's TCP has a little room
     * again: after a card's outage a 64 KiB write waited for several round trips of a slow (cold, TCG) card.
     */
    private static final int CHUNK = 16 * 1024;

    private final String name;
    private final boolean hardState;
    private final SocketChannel channel;
    private final long bytesPerSecond;
    private final IntegrityCheck.Running sha = IntegrityCheck.SHA256.start();
    private final Thread thread;
    private volatile boolean stopping;
    private volatile long sent;
    private volatile long sentAtSwap = -1;
    private volatile String failure;

    /**
     * @param hardState true for state the drill must keep (a host flow routed through the card), false for the
     *                  card's own connections, which a reboot may lose
     */
    public Flow(String name, boolean hardState, SocketChannel connected, long bytesPerSecond) {
        this.name = name;
        this.hardState = hardState;
        this.channel = connected;
        this.bytesPerSecond = bytesPerSecond;
        this.thread = Thread.ofPlatform().name("drill-" + name).unstarted(this::pump);
    }

    public Flow start() {
        thread.start();
        return this;
    }

    private void pump() {
        byte[] pattern = new byte[CHUNK];
        SplittableRandom random = new SplittableRandom(name.hashCode());
        long start = System.nanoTime();
        try {
            SinkRequest.write(channel, IntegrityCheck.SHA256);
            while (!stopping) {
                random.nextBytes(pattern);
                ByteBuffer b = ByteBuffer.wrap(pattern);
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                sha.update(pattern, 0, CHUNK);
                sent += CHUNK;
                long due = start + sent * 1_000_000_000L / bytesPerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        } catch (IOException e) {
            if (failure == null) {
                // keep the first reason: finish() closes a stuck channel after saying why
                failure = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Marks the moment the swap begins: what was sent until now crossed the old card. */
    void markSwap() {
        sentAtSwap = sent;
    }

    /**
     * Waits until this flow has written more than {@code bytes} in all, or has failed, or {@code millis} passed:
     * a condition, not a rate, so a busy machine only makes the wait longer. True if it got there.
     */
    public boolean awaitSent(long bytes, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (sent <= bytes && failure == null && thread.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return sent > bytes;
    }

    public long sent() {
        return sent;
    }

    /**
     * Stops sending and asks the sink what it got. A flow whose socket broke during the drill is reported reset
     * (what its sink received is then unknown: -1).
     */
    public DrillReport.FlowOutcome finish() throws InterruptedException {
        stopping = true;
        thread.join(10_000);
        if (thread.isAlive()) {
            // stuck in write(2) on a connection that goes nowhere
            failure = "no progress for 10 s";
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing is all that is left
            }
            thread.join(2_000);
        }
        String mine = sha.value();
        long before = Math.max(0, sentAtSwap);
        if (failure != null) {
            return new DrillReport.FlowOutcome(name, hardState, sent, before, -1, false, false, "reset: " + failure);
        }
        try {
            TransferReport sink = TransferReport.awaitFrom(channel, name, sent);
            boolean equal = sink.agrees(sent, IntegrityCheck.SHA256, mine);
            return new DrillReport.FlowOutcome(name, hardState, sent, before, sink.bytes(), equal, true,
                    equal ? "survived, SHA-256 equal" : "survived, but the sink's bytes differ");
        } catch (IOException e) {
            return new DrillReport.FlowOutcome(name, hardState, sent, before, -1, false, false, "reset: " + e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        stopping = true;
        channel.close();
    }
}
