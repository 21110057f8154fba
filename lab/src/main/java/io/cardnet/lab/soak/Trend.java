package io.cardnet.lab.soak;

import io.cardnet.lab.soak.ResourceSampler.Resource;
import io.cardnet.lab.soak.ResourceSampler.Sample;

import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether a process's resources stay flat: the least-squares slope of each resource over the samples of one
 * process (one pid: a restarted card-node is a new process with its own trend), per minute, against a threshold.
 *
 * <p>The fit covers the second half of each process's time in the soak (and nothing of its first
 * {@link #SETTLE_MILLIS}): a JVM's resident memory grows over its first young collections (until eden has been
 * filled once, every allocation lands on a page never used before; a new card-node measured 190 → 291 MiB over its
 * first minute, then 291 → 294 MiB over the next), its code cache fills as the JIT compiles the data path, and the
 * DMA regions' pages become resident as the rings first wrap. That growth stops; a leak does not, so it shows in the
 * second half as well as in the first.
 *
 * <p>A resource grows if its slope is above its limit <em>and</em> more than three standard errors above zero:
 * a count that steps between two levels (the ends map the direct rings' regions while no fault or capture holds
 * descriptors in the simulator, and unmap them while one does: four fds each) is noise, not growth.
 *
 * <p>The thresholds: what a leak worth finding costs per minute in this soak, above what was measured as noise
 * on flat processes (BENCHMARKS.md, Soak). The soak flaps the link twice a minute and switches faults 12 times a
 * minute, so a leak of one object per event shows as at least 2 per minute:
 * <ul>
 *   <li>open fds and threads: 1 per minute (one leaked per flap would be 2);</li>
 *   <li>RSS: 16 MiB per minute. What an RSS trend can find is a leak per packet: one 64 KiB buffer kept per
 *       packet of the soak's 8 MiB/s would be about 480 MiB a minute. What it must not call a leak is a young
 *       JVM's warm-up, which goes on into its second minute (its tenured generation fills with promoted objects
 *       until a full collection, the JIT fills its code cache): the 2-minute CI soak, which judges JVMs one to two
 *       minutes old, measured 4.8 to 8.9 MiB/min there; the 10-minute soak's second half 0.1 to 0.4. A leak per
 *       flap or fault switch (14 a minute) is too small for RSS: direct memory's limit, fds, threads and the
 *       comparison at rest find those;</li>
 *   <li>direct memory: 1 MiB per minute (a leaked 64 KiB buffer per flap and fault switch would be 0.9);</li>
 *   <li>DMA slots in use: 8 per minute, as the rings are busy under bulk traffic and the occupancy swings
 *       between 0 and the ring depth from one sample to the next; the sharper test of stuck slots is at rest
 *       (see {@link Soak}): every slot must come back once the traffic stops.</li>
 * </ul>
 * Only growth counts: a falling resource is no leak.
 */
final class Trend {
    static final long SETTLE_MILLIS = 30_000;
    /** Fewer samples than this after settling cannot tell a slope from noise. */
    static final int MIN_SAMPLES = 5;

    static final Map<Resource, Double> THRESHOLD_PER_MINUTE = Map.of(
            Resource.RSS, 16.0 * (1 << 20),
            Resource.FDS, 1.0,
            Resource.THREADS, 1.0,
            Resource.DIRECT, 1.0 * (1 << 20),
            Resource.DMA_SLOTS, 8.0);

    private Trend() {
    }

    /** The least-squares fit of {@code y} over {@code x}: slope and its standard error (NaN if it cannot tell). */
    record Fit(double slope, double standardError) {
        /** Growth that is both above the limit and no accident of noise (three standard errors above zero). */
        boolean grows(double limit) {
            return slope > limit && !(standardError * 3 >= slope);
        }
    }

    static Fit fit(double[] x, double[] y) {
        int n = x.length;
        if (n < 2) {
            return new Fit(Double.NaN, Double.NaN);
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        if (sxx == 0) {
            return new Fit(Double.NaN, Double.NaN);
        }
        double slope = sxy / sxx;
        double residuals = 0;
        for (int i = 0; i < n; i++) {
            double r = y[i] - (my + slope * (x[i] - mx));
            residuals += r * r;
        }
        double se = n > 2 ? Math.sqrt(residuals / (n - 2) / sxx) : Double.NaN;
        return new Fit(slope, se);
    }

    /** Every process's trend for every resource it has, from all samples of the soak. */
    static List<SoakReport.ResourceTrend> of(List<Sample> samples) {
        Map<String, List<Sample>> byProcess = new LinkedHashMap<>();
        for (Sample s : samples) {
            byProcess.computeIfAbsent(s.component() + " " + s.pid(), k -> new ArrayList<>()).add(s);
        }
        List<SoakReport.ResourceTrend> out = new ArrayList<>();
        for (List<Sample> own : byProcess.values()) {
            long born = own.getFirst().atMillis();
            long died = own.getLast().atMillis();
            long from = Math.max(born + SETTLE_MILLIS, born + (died - born) / 2);
            boolean collected = collectedIn(own, from);
            for (Resource r : Resource.values()) {
                List<Sample> have = own.stream().filter(s -> !Double.isNaN(s.value(r))).toList();
                if (have.isEmpty()) {
                    continue;
                }
                List<Sample> fitted = have.stream().filter(s -> s.atMillis() >= from).toList();
                Fit f = fit(fitted.stream().mapToDouble(s -> s.atMillis() / 60_000.0).toArray(),
                        fitted.stream().mapToDouble(s -> s.value(r)).toArray());
                double limit = THRESHOLD_PER_MINUTE.get(r);
                String verdict = fitted.size() < MIN_SAMPLES ? "too few samples"
                        : !f.grows(limit) ? "flat"
                        : r == Resource.RSS && !collected ? "GROWING (no young collection in the window: its heap may"
                        + " still be filling)"
                        : "GROWING";
                DoubleSummaryStatistics range = fitted.stream().mapToDouble(s -> s.value(r)).summaryStatistics();
                Sample first = own.getFirst();
                out.add(new SoakReport.ResourceTrend(first.component(), first.pid(), r.label, r.unit,
                        fitted.size(), have.getFirst().value(r) / r.scale, have.getLast().value(r) / r.scale,
                        fitted.isEmpty() ? Double.NaN : range.getMin() / r.scale,
                        fitted.isEmpty() ? Double.NaN : range.getMax() / r.scale,
                        f.slope() / r.scale, f.standardError() / r.scale, limit / r.scale, from, verdict));
            }
        }
        return out;
    }

    /**
     * True if the JVM collected its young generation at least once from {@code from} on (eden's use fell between two
     * samples). Before its first collections a JVM's RSS grows as it touches eden's pages for the first time.
     */
    static boolean collectedIn(List<Sample> own, long from) {
        for (int i = 1; i < own.size(); i++) {
            double before = own.get(i - 1).edenUsed();
            double now = own.get(i).edenUsed();
            if (own.get(i - 1).atMillis() >= from && !Double.isNaN(before) && !Double.isNaN(now) && now < before) {
                return true;
            }
        }
        return false;
    }
}
