package io.cardnet.lab.soak;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabState;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads what every lab process holds: resident memory, open file descriptors and threads from /proc (the
 * kernel's word, whatever the process thinks), and from the process's own /metrics what only it knows: direct
 * (off-heap) buffer memory ({@code jvm_buffer_memory_used_bytes{id="direct"}}) and, for the simulator, the DMA
 * ring slots posted and not yet completed ({@code cardnet_ring_occupancy}, both directions, the direct rings
 * included: the ends share those rings, so the simulator is the one place that sees them all), and the JVM's eden in
 * use, whose fall between two samples shows the JVM has collected its young generation at least once.
 */
public final class ResourceSampler {
    /** Pinned in the report: which figure is which. */
    enum Resource {
        RSS("RSS", "MiB", 1 << 20),
        FDS("open fds", "", 1),
        THREADS("threads", "", 1),
        DIRECT("direct memory", "MiB", 1 << 20),
        DMA_SLOTS("DMA slots in use", "", 1);

        final String label;
        final String unit;
        final double scale;

        Resource(String label, String unit, double scale) {
            this.label = label;
            this.unit = unit;
            this.scale = scale;
        }
    }

    /**
     * One process at one moment; a figure that could not be read is NaN (a scrape across the bus during a flap,
     * or a resource this process does not have: DMA slots are the simulator's).
     */
    public record Sample(String component, long pid, long atMillis, double rss, double fds, double threads, double direct,
                  double dmaSlots, double edenUsed) {
        double value(Resource r) {
            return switch (r) {
                case RSS -> rss;
                case FDS -> fds;
                case THREADS -> threads;
                case DIRECT -> direct;
                case DMA_SLOTS -> dmaSlots;
            };
        }
    }

    private final Lab lab;

    ResourceSampler(Lab lab) {
        this.lab = lab;
    }

    /** One sample of every lab process that runs now, {@code atMillis} after the soak began. */
    List<Sample> sample(long atMillis) {
        lab.refresh();
        List<Sample> out = new ArrayList<>();
        for (Component c : Component.values()) {
            LabState.Proc p = lab.state().processes().get(c.command());
            if (p == null || !lab.isRunning(c)) {
                continue;
            }
            double[] proc = proc(p.pid());
            String metrics = scrape(lab.state().metrics().get(c.command()));
            double direct = metrics == null ? Double.NaN
                    : PrometheusText.sum(metrics, "jvm_buffer_memory_used_bytes", "id=\"direct\"");
            double slots = c != Component.SIM || metrics == null ? Double.NaN
                    : PrometheusText.sum(metrics, "cardnet_ring_occupancy", "");
            double eden = metrics == null ? Double.NaN
                    : PrometheusText.sum(metrics, "jvm_memory_used_bytes", "id=\"Eden Space\"");
            out.add(new Sample(c.displayName(), p.pid(), atMillis, proc[0], proc[1], proc[2], direct, slots, eden));
        }
        return out;
    }

    /** {VmRSS bytes, open fds, threads} of {@code pid}, NaN for what could not be read (it just exited). */
    static double[] proc(long pid) {
        double rss = Double.NaN;
        double threads = Double.NaN;
        double fds = Double.NaN;
        Path dir = Path.of("/proc", Long.toString(pid));
        try {
            for (String line : Files.readAllLines(dir.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", "")) * 1024.0;
                } else if (line.startsWith("Threads:")) {
                    threads = Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            try (Stream<Path> s = Files.list(dir.resolve("fd"))) {
                fds = s.count();
            }
        } catch (IOException | NumberFormatException e) {
            // gone between the state file and here: this sample has no figure
        }
        return new double[]{rss, fds, threads};
    }

    /** The process's /metrics page, or null if it did not answer within a few seconds. */
    private String scrape(String url) {
        if (url == null) {
            return null;
        }
        try {
            return lab.onHostSide(() -> {
                HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
                c.setConnectTimeout(2000);
                c.setReadTimeout(3000);
                try (var in = c.getInputStream()) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } finally {
                    c.disconnect();
                }
            });
        } catch (Exception e) {
            return null;
        }
    }
}
