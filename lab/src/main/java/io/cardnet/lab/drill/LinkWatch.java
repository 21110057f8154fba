package io.cardnet.lab.drill;

import com.fasterxml.jackson.databind.JsonNode;

/** Polls the bus every 10 ms during a swap: when the link went down, and when it came up again. */
final class LinkWatch implements AutoCloseable {
    private final DrillTarget lab;
    private final long t0;
    private final Thread thread;
    private volatile boolean stop;
    private volatile long downAt = -1;
    private volatile long upAt = -1;

    private LinkWatch(DrillTarget lab, long t0Nanos) {
        this.lab = lab;
        this.t0 = t0Nanos;
        this.thread = Thread.ofPlatform().name("drill-link").start(this::poll);
    }

    static LinkWatch start(DrillTarget lab, long t0Nanos) {
        return new LinkWatch(lab, t0Nanos);
    }

    private void poll() {
        while (!stop && upAt < 0) {
            try {
                JsonNode s = lab.linkStatus();
                boolean up = "UP".equals(s.path("state").asText());
                long now = (System.nanoTime() - t0) / 1_000_000;
                if (!up && downAt < 0) {
                    downAt = now;
                } else if (up && downAt >= 0) {
                    upAt = now;
                }
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                // the simulator keeps running through a swap; a missed poll is just a missed poll
            }
        }
    }

    /** ms after the swap began, or -1. */
    long downAt() {
        return downAt;
    }

    long upAt() {
        return upAt;
    }

    /** Waits until the link is up again, at most {@code millis}; true if it is. */
    boolean awaitUp(long millis) throws InterruptedException {
        thread.join(millis);
        return upAt >= 0;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(1_000);
    }
}
