package io.cardnet.lab.tools;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Closes a transfer's channel when it stops moving, so a dead link fails the transfer instead of hanging it. */
public final class StallWatch implements AutoCloseable {
    /** A transfer that moves nothing for this long has failed (the link or the sink is gone). */
    public static final Duration STALL = Duration.ofSeconds(60);

    private final AtomicLong moved = new AtomicLong();
    private final Thread thread;

    private StallWatch(SocketChannel ch) {
        this.thread = Thread.ofVirtual().name("stall-watch").start(() -> watch(ch));
    }

    public static StallWatch on(SocketChannel ch) {
        return new StallWatch(ch);
    }

    /** Reports progress: the total bytes moved so far. */
    public void moved(long total) {
        moved.set(total);
    }

    private void watch(SocketChannel ch) {
        long last = -1;
        long since = System.nanoTime();
        try {
            while (ch.isOpen()) {
                Thread.sleep(1000);
                long now = moved.get();
                if (now != last) {
                    last = now;
                    since = System.nanoTime();
                } else if (System.nanoTime() - since > STALL.toNanos()) {
                    ch.close();
                    return;
                }
            }
        } catch (InterruptedException | IOException ignored) {
            // the transfer ended
        }
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
