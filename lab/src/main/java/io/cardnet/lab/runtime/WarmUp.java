package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Makes a fresh lab ready to be measured. The AOT cache starts the three JVMs with their classes loaded and their
 * methods profiled, but JDK 25 keeps no compiled code in it: the JIT still compiles the data path on its first
 * packets, and a lab measured at once runs at a fraction of its warm speed for seconds. So real packets cross the
 * link until it is warm: 64K TSO packets both ways through the card's echo service (port 7) until consecutive short
 * windows agree, then small request/response packets (ACK-sized, the latency path), bounded by a deadline.
 *
 * <p>The echo service is the card's own, so this works whatever the card is (a namespace or a VM).
 */
public final class WarmUp {
    static final int ECHO_PORT = 7;
    private static final int CHUNK = 1 << 16;
    private static final int SMALL = 64;

    /**
     * @param deadline     give up waiting for a steady rate after this long (the lab is still usable, only warmer)
     * @param window       one throughput sample
     * @param tolerance    the last {@code steadyWindows} samples are within this fraction of their mean
     * @param minimum      bulk traffic for at least this long, so the JIT has seen the path's steady state
     * @param roundTrips   small request/response round trips after the bulk phase
     */
    public record Settings(Duration deadline, Duration window, double tolerance, int steadyWindows, Duration minimum,
                           int roundTrips) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(20), Duration.ofMillis(250), 0.10, 4,
                Duration.ofSeconds(2), 3000);
        /** A VM card under TCG is slow for reasons no warm-up changes: a short one, for the host side's JVMs. */
        public static final Settings VM = new Settings(Duration.ofSeconds(5), Duration.ofMillis(500), 0.10, 3,
                Duration.ofSeconds(1), 300);
    }

    /**
     * What the warm-up did, for the state file and `lab status`.
     *
     * @param outcome     {@code warm} (the rate settled), {@code deadline} (it had not settled by the deadline) or
     *                    {@code skipped} ({@code --no-warm})
     * @param millis      how long it took
     * @param bytes       bytes echoed (each crossed the bus twice)
     * @param packets     packets the bus moved meanwhile, both directions (its descriptor counters)
     * @param gbps        the echo rate of the last window, each way
     * @param windowsGbps every window's echo rate, each way
     * @param roundTrips  small request/response round trips
     * @param rttMicros   their median round-trip time
     */
    public record Result(String outcome, long millis, long bytes, long packets, double gbps, List<Double> windowsGbps,
                         int roundTrips, double rttMicros) {
        public static Result skipped() {
            return new Result("skipped", 0, 0, 0, 0, List.of(), 0, 0);
        }

        /** One line for the banner and progress. */
        public String describe() {
            if (outcome.equals("skipped")) {
                return "not warmed (--no-warm): the first seconds of traffic run slower while the JIT compiles";
            }
            return String.format("%s in %.1f s: %,d packets, %.2f GB echoed (last %.2f Gb/s each way), %d round trips"
                            + " (median %.0f µs)%s", outcome.equals("warm") ? "warm" : "warmed", millis / 1000.0, packets,
                    bytes / 1e9, gbps, roundTrips, rttMicros,
                    outcome.equals("warm") ? "" : " — the rate had not settled by the deadline (a busy machine?)");
        }
    }

    private WarmUp() {
    }

    /** Warms {@code lab}'s data path from its host side; throws only if the card's echo service cannot be reached. */
    public static Result run(Lab lab, Settings s, Consumer<String> progress) throws IOException {
        long start = System.nanoTime();
        long packetsBefore = packets(lab);
        InetSocketAddress echo = new InetSocketAddress(lab.cardAddress(), ECHO_PORT);
        Bulk bulk = bulk(lab, echo, s, progress, start);
        long[] rtts = roundTrips(lab, echo, s.roundTrips());
        long millis = (System.nanoTime() - start) / 1_000_000;
        List<Double> w = bulk.windowsGbps();
        return new Result(bulk.steady() ? "warm" : "deadline", millis, bulk.bytes(), packets(lab) - packetsBefore,
                w.isEmpty() ? 0 : w.getLast(), w, rtts.length, rtts.length == 0 ? 0 : rtts[rtts.length / 2] / 1000.0);
    }

    private record Bulk(boolean steady, long bytes, List<Double> windowsGbps) {
    }

    /** 64K writes to the echo service from one thread, reads back on another, sampled every window. */
    private static Bulk bulk(Lab lab, InetSocketAddress echo, Settings s, Consumer<String> progress, long start)
            throws IOException {
        SocketChannel ch = connect(lab, echo);
        AtomicLong received = new AtomicLong();
        Thread reader = Thread.ofPlatform().name("warm-up-reader").start(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            try {
                int n;
                while ((n = ch.read(buf.clear())) >= 0) {
                    received.addAndGet(n);
                }
            } catch (IOException e) {
                // closed at the end
            }
        });
        StopFlag stop = new StopFlag();
        Thread writer = Thread.ofPlatform().name("warm-up-writer").start(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            try {
                while (!stop.now) {
                    ch.write(buf.clear());
                }
                ch.shutdownOutput();
            } catch (IOException e) {
                // the card went away: the reader ends too, and the window rate says so
            }
        });
        List<Double> windows = new ArrayList<>();
        long deadline = start + s.deadline().toNanos();
        long minimum = start + s.minimum().toNanos();
        long last = received.get();
        long lastAt = System.nanoTime();
        long nextNotice = lastAt + 1_000_000_000L;
        boolean steady = false;
        try {
            while (System.nanoTime() < deadline && !steady) {
                Thread.sleep(s.window().toMillis());
                long now = System.nanoTime();
                long r = received.get();
                windows.add(round((r - last) * 8.0 / (now - lastAt)));
                last = r;
                lastAt = now;
                steady = now >= minimum && steady(windows, s.steadyWindows(), s.tolerance());
                if (now >= nextNotice) {
                    nextNotice += 1_000_000_000L;
                    progress.accept(String.format("warming the data path: %.0f s, %.2f Gb/s each way through the card's"
                            + " echo", (now - start) / 1e9, windows.getLast()));
                }
                if (!reader.isAlive()) {
                    throw new LabException("the card's echo service (" + echo + ") closed the warm-up connection;"
                            + " see card-node's log, or skip the warm-up with --no-warm");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while warming up");
        } finally {
            stop.now = true;
            join(writer);
            join(reader);
            ch.close();
        }
        return new Bulk(steady, received.get(), List.copyOf(windows));
    }

    /** Set by the sampling thread, read by the writer. */
    private static final class StopFlag {
        volatile boolean now;
    }

    /** The last {@code n} windows lie within {@code tolerance} of their mean and none is zero. */
    static boolean steady(List<Double> windows, int n, double tolerance) {
        if (windows.size() < n) {
            return false;
        }
        List<Double> tail = windows.subList(windows.size() - n, windows.size());
        double mean = tail.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        return mean > 0 && tail.stream().allMatch(x -> Math.abs(x - mean) <= tolerance * mean);
    }

    /** Small request/response round trips (TCP_NODELAY): the path each ping and ACK takes. Sorted nanos. */
    private static long[] roundTrips(Lab lab, InetSocketAddress echo, int count) throws IOException {
        long[] rtt = new long[count];
        try (SocketChannel ch = connect(lab, echo)) {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer out = ByteBuffer.allocateDirect(SMALL);
            ByteBuffer in = ByteBuffer.allocateDirect(SMALL);
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                ch.write(out.clear());
                in.clear();
                while (in.hasRemaining()) {
                    if (ch.read(in) < 0) {
                        throw new LabException("the card's echo service closed the connection during the warm-up");
                    }
                }
                rtt[i] = System.nanoTime() - t0;
            }
        }
        Arrays.sort(rtt);
        return rtt;
    }

    /** A connection from the host side's namespace (the socket stays there whichever thread uses it). */
    private static SocketChannel connect(Lab lab, InetSocketAddress to) throws IOException {
        try {
            return lab.onHostSide(() -> {
                SocketChannel ch = SocketChannel.open();
                ch.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                ch.socket().connect(to, 5000);
                return ch;
            });
        } catch (IOException e) {
            throw new LabException("cannot reach the card's echo service at " + to + " to warm the link up ("
                    + e.getMessage() + "); skip the warm-up with --no-warm");
        } catch (Exception e) {
            throw new IOException("cannot connect from the host side to " + to + ": " + e.getMessage(), e);
        }
    }

    /** Descriptors the bus moved so far, both directions; 0 if the simulator does not say. */
    private static long packets(Lab lab) {
        try {
            JsonNode traffic = lab.linkStatus().path("traffic");
            long n = 0;
            for (JsonNode d : traffic) {
                n += d.path("frames").asLong(0);
            }
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void join(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double round(double gbps) {
        return Math.round(gbps * 100) / 100.0;
    }
}
