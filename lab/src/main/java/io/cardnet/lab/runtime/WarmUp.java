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
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Makes a fresh lab ready to be measured. The AOT cache starts the three JVMs with their classes loaded and their
 * methods profiled, but JDK 25 keeps no compiled code in it: the JIT still compiles the data path on its first
 * packets, and a lab measured at once runs at a fraction of its warm speed for seconds. So real packets cross the
 * link until it is warm: 64K TSO packets both ways through the card's echo service (port 7) and, beside them, small
 * request/response packets (the path of pings and ACKs), until every JVM's JIT has fallen quiet ({@link JitWatch}:
 * under 2 % of the last second spent compiling) — or, where a JVM does not say, until consecutive short windows'
 * rates agree — bounded by a deadline.
 *
 * <p>The echo service is the card's own, so this works whatever the card is (a namespace or a VM).
 */
public final class WarmUp {
    static final int ECHO_PORT = 7;
    private static final int CHUNK = 1 << 16;
    private static final int SMALL = 64;

    /**
     * @param deadline      give up waiting after this long (the lab is still usable, only less warm)
     * @param window        one throughput sample
     * @param steadyWindows how many windows the criterion looks back over
     * @param tolerance     rate criterion: those windows lie within this fraction of their mean
     * @param jitShare      JIT criterion: each JVM compiled for less than this share of those windows
     * @param minimum       traffic for at least this long
     */
    public record Settings(Duration deadline, Duration window, int steadyWindows, double tolerance, double jitShare,
                           Duration minimum) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(20), Duration.ofMillis(250), 4, 0.10,
                0.02, Duration.ofSeconds(1));
        /** A VM card under TCG is slow for reasons no warm-up changes: a short one, for the host side's JVMs. */
        public static final Settings VM = new Settings(Duration.ofSeconds(5), Duration.ofMillis(500), 2, 0.10, 0.02,
                Duration.ofSeconds(1));
    }

    /**
     * What the warm-up did, for the state file and `lab status`.
     *
     * @param outcome     {@code warm} (a criterion was met), {@code deadline} (none was by the deadline) or
     *                    {@code skipped} ({@code --no-warm})
     * @param criterion   what said it was warm: {@code jit-quiet} or {@code rate-steady}; or why not
     * @param millis      how long it took
     * @param bytes       bytes echoed (each crossed the bus twice)
     * @param packets     packets the bus moved meanwhile, both directions (its descriptor counters)
     * @param gbps        the echo rate of the last window, each way
     * @param windowsGbps every window's echo rate, each way
     * @param compileMs   each JVM's JIT compile time at the end, ms
     * @param roundTrips  small request/response round trips
     * @param rttMicros   the median of the last 1024 round trips
     */
    public record Result(String outcome, String criterion, long millis, long bytes, long packets, double gbps,
                         List<Double> windowsGbps, Map<String, Long> compileMs, long roundTrips, double rttMicros) {
        public static Result skipped() {
            return new Result("skipped", "--no-warm", 0, 0, 0, 0, List.of(), Map.of(), 0, 0);
        }

        /** One line for the banner and progress. */
        public String describe() {
            if (outcome.equals("skipped")) {
                return "not warmed (--no-warm): the first seconds of traffic run slower while the JIT compiles";
            }
            return String.format("%s in %.1f s (%s): %,d packets, %.2f GB echoed (last %.2f Gb/s each way), %,d small"
                            + " round trips (median %.0f µs)", outcome.equals("warm") ? "warm" : "not settled", millis / 1000.0,
                    criterion, packets, bytes / 1e9, gbps, roundTrips, rttMicros);
        }
    }

    private WarmUp() {
    }

    /** Warms {@code lab}'s data path from its host side; throws only if the card's echo service cannot be reached. */
    public static Result run(Lab lab, Settings s, Consumer<String> progress) throws IOException {
        long start = System.nanoTime();
        long packetsBefore = packets(lab);
        InetSocketAddress echo = new InetSocketAddress(lab.cardAddress(), ECHO_PORT);
        JitWatch jit = new JitWatch(lab);
        SocketChannel bulk = connect(lab, echo);
        SocketChannel small = connect(lab, echo);
        small.setOption(StandardSocketOptions.TCP_NODELAY, true);
        StopFlag stop = new StopFlag();
        AtomicLong received = new AtomicLong();
        RoundTrips rtt = new RoundTrips();
        List<Thread> threads = List.of(
                Thread.ofPlatform().name("warm-up-reader").start(() -> drain(bulk, received)),
                Thread.ofPlatform().name("warm-up-writer").start(() -> fill(bulk, stop)),
                Thread.ofPlatform().name("warm-up-small").start(() -> rtt.run(small, stop)));
        List<Double> windows = new ArrayList<>();
        List<Map<String, Long>> compiled = new ArrayList<>();
        String criterion = null;
        try {
            compiled.add(jit.sample());
            long deadline = start + s.deadline().toNanos();
            long minimum = start + s.minimum().toNanos();
            long last = 0;
            long lastAt = System.nanoTime();
            long nextNotice = lastAt + 1_000_000_000L;
            while (criterion == null && System.nanoTime() < deadline) {
                Thread.sleep(s.window().toMillis());
                long now = System.nanoTime();
                long r = received.get();
                windows.add(round((r - last) * 8.0 / (now - lastAt)));
                compiled.add(jit.sample());
                last = r;
                lastAt = now;
                if (now >= minimum) {
                    criterion = jitQuiet(compiled, s.steadyWindows(), s.steadyWindows() * s.window().toMillis() * s.jitShare())
                            ? "jit-quiet" : !jitKnown(compiled, lab) && steady(windows, s.steadyWindows(), s.tolerance())
                            ? "rate-steady" : null;
                }
                if (now >= nextNotice) {
                    nextNotice += 1_000_000_000L;
                    progress.accept(String.format("warming the data path: %.0f s, %.2f Gb/s each way through the card's"
                            + " echo, JIT %s", (now - start) / 1e9, windows.getLast(), compiling(compiled, s)));
                }
                if (!threads.getFirst().isAlive()) {
                    throw new LabException("the card's echo service (" + echo + ") closed the warm-up connection;"
                            + " see card-node's log, or skip the warm-up with --no-warm");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while warming up");
        } finally {
            stop.now = true;
            threads.forEach(WarmUp::join);
            bulk.close();
            small.close();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Result(criterion != null ? "warm" : "deadline", criterion != null ? criterion
                : "neither the JIT nor the rate settled within " + s.deadline().toSeconds() + " s (a busy machine?)",
                millis, received.get(), packets(lab) - packetsBefore, windows.isEmpty() ? 0 : windows.getLast(),
                List.copyOf(windows), compiled.getLast(), rtt.count(), rtt.recentMedianMicros());
    }

    /** Every JVM answered in the last {@code n} windows and compiled for at most {@code budgetMs} in them. */
    static boolean jitQuiet(List<Map<String, Long>> samples, int n, double budgetMs) {
        if (samples.size() <= n) {
            return false;
        }
        Map<String, Long> now = samples.getLast();
        Map<String, Long> then = samples.get(samples.size() - 1 - n);
        return !now.isEmpty() && now.size() == then.size() && now.entrySet().stream()
                .allMatch(e -> then.containsKey(e.getKey()) && e.getValue() - then.get(e.getKey()) <= budgetMs);
    }

    private static boolean jitKnown(List<Map<String, Long>> samples, Lab lab) {
        return samples.getLast().size() == lab.state().metrics().size();
    }

    /** "sim 40 ms, card-node 120 ms, ..." compiled in the last second, for the progress line. */
    private static String compiling(List<Map<String, Long>> samples, Settings s) {
        int back = (int) Math.min(samples.size() - 1, 1000 / Math.max(1, s.window().toMillis()));
        Map<String, Long> now = samples.getLast();
        Map<String, Long> then = samples.get(samples.size() - 1 - back);
        if (now.isEmpty()) {
            return "not reported";
        }
        StringBuilder b = new StringBuilder();
        now.forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(' ')
                .append(v - then.getOrDefault(k, v)).append(" ms"));
        return b.append(" in the last second").toString();
    }

    private static void fill(SocketChannel ch, StopFlag stop) {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        try {
            while (!stop.now) {
                ch.write(buf.clear());
            }
            ch.shutdownOutput();
        } catch (IOException e) {
            // the card went away: the reader ends too, and the loop says so
        }
    }

    private static void drain(SocketChannel ch, AtomicLong received) {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        try {
            int n;
            while ((n = ch.read(buf.clear())) >= 0) {
                received.addAndGet(n);
            }
        } catch (IOException e) {
            // closed at the end
        }
    }

    /** Small request/response round trips (TCP_NODELAY) until stopped: the path each ping and ACK takes. */
    private static final class RoundTrips {
        private final long[] recent = new long[1024];
        private volatile long count;

        void run(SocketChannel ch, StopFlag stop) {
            ByteBuffer out = ByteBuffer.allocateDirect(SMALL);
            ByteBuffer in = ByteBuffer.allocateDirect(SMALL);
            try {
                while (!stop.now) {
                    long t0 = System.nanoTime();
                    ch.write(out.clear());
                    in.clear();
                    while (in.hasRemaining()) {
                        if (ch.read(in) < 0) {
                            return;
                        }
                    }
                    synchronized (recent) {
                        recent[(int) (count % recent.length)] = System.nanoTime() - t0;
                        count++;
                    }
                }
            } catch (IOException e) {
                // closed at the end
            }
        }

        long count() {
            return count;
        }

        double recentMedianMicros() {
            long[] r;
            synchronized (recent) {
                r = Arrays.copyOf(recent, (int) Math.min(count, recent.length));
            }
            Arrays.sort(r);
            return r.length == 0 ? 0 : r[r.length / 2] / 1000.0;
        }
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
