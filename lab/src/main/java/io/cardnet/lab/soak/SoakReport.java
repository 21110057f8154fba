package io.cardnet.lab.soak;

import java.util.List;
import java.util.Locale;

/**
 * What a soak did and measured: soak.json, and {@link #markdown()} for soak.md and the terminal.
 *
 * @param ranMillis   how long the traffic ran (shorter than planned if the soak was stopped)
 * @param interrupted true if Ctrl-C (or an error) ended the soak before its time
 * @param events      what the soak did to the lab, in ms after its start
 * @param goals       the verdicts; the soak passes when every goal is met
 * @param samples     every sample of every process (bytes for memory), for plotting or a second opinion
 */
public record SoakReport(String lab, String startedAt, long plannedMillis, long ranMillis, boolean interrupted,
                         long sampleEveryMillis, List<Event> events, List<FlowResult> flows, Pings pings,
                         List<ResourceTrend> resources, AtRest atRest, LogAudit.Result logs, List<Goal> goals,
                         List<ResourceSampler.Sample> samples) {

    /**
     * One disturbance: from {@code startMillis} until the lab was back ({@code settledMillis}: link up, carrier on);
     * {@code activeUntilMillis} for a fault that stays on after that (a drop fault loses pings until switched off).
     */
    public record Event(String what, String kind, long startMillis, long settledMillis, long activeUntilMillis,
                        String note) {
    }

    /** One TCP flow: what its sender wrote and hashed against what its sink counted and hashed. */
    public record FlowResult(String name, long bytesSent, long bytesReceived, boolean sha256Equal, String note) {
        public boolean intact() {
            return sha256Equal && bytesSent == bytesReceived && bytesSent > 0;
        }
    }

    /**
     * The 10 ms pings: {@code lostExplained} fell within a disturbance (a flap, the restart, a drop fault),
     * {@code lostUnexplained} did not; the longest gap between two replies, and the longest outside any disturbance.
     */
    public record Pings(long sent, long received, long lost, long lostExplained, long lostUnexplained,
                        long longestGapMillis, String longestGapDuring, long longestUnexplainedGapMillis) {
    }

    /** One resource of one process: first and last sample, the range and slope over the fitted samples. */
    public record ResourceTrend(String component, long pid, String resource, String unit, int samplesFitted,
                                double first, double last, double min, double max, double slopePerMinute,
                                double slopeStandardError, double thresholdPerMinute, long fittedFromMillis,
                                String verdict) {
        public boolean flat() {
            return !verdict.startsWith("GROWING");
        }
    }

    /**
     * The lab idle before the soak and again after it (traffic stopped, faults cleared, settings put back): the DMA
     * slots still in use (every slot must come back, within {@code waitedMillis}) and each process's fds and
     * threads then and now (card-node after its restart is a new process of the same program).
     */
    public record AtRest(double dmaSlotsInUse, long waitedMillis, List<Idle> processes) {
    }

    public record Idle(String component, double fdsBefore, double fdsAfter, double threadsBefore, double threadsAfter) {
        /** More than {@link #TOLERANCE} fds or threads more than before: something was not given back. */
        public boolean back() {
            return !(fdsAfter > fdsBefore + TOLERANCE) && !(threadsAfter > threadsBefore + TOLERANCE);
        }

        /**
         * Two: a scrape of /metrics or a control connection can be open as the sample is taken; a leak of one per
         * flap would leave at least four after the shortest soak (4 flaps in 2 minutes).
         */
        public static final int TOLERANCE = 2;
    }

    /** A goal of issue 14 ({@code required}), or a check the soak reports beside them without failing on it. */
    public record Goal(String goal, boolean required, boolean met, String detail) {
    }

    public boolean passed() {
        return goals.stream().filter(Goal::required).allMatch(Goal::met);
    }

    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# cardnet soak\n\n");
        b.append(String.format(Locale.ROOT, "Lab %s, started %s, ran %s of %s%s; a sample of every process every %d s.%n%n",
                lab, startedAt, clock(ranMillis), clock(plannedMillis), interrupted ? " (STOPPED EARLY)" : "",
                sampleEveryMillis / 1000));
        b.append("| goal | met | detail |\n|---|---|---|\n");
        for (Goal g : goals) {
            b.append(String.format("| %s%s | %s | %s |%n", g.goal(), g.required() ? "" : " (check)",
                    g.met() ? "yes" : g.required() ? "**NO**" : "no", g.detail()));
        }
        b.append("\n| flow | bytes sent | bytes received | SHA-256 | note |\n|---|---:|---:|---|---|\n");
        for (FlowResult f : flows) {
            b.append(String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s |%n", f.name(), f.bytesSent(),
                    f.bytesReceived() < 0 ? "–" : String.format(Locale.ROOT, "%,d", f.bytesReceived()),
                    f.sha256Equal() ? "equal" : "**differs**", f.note()));
        }
        if (pings != null) {
            b.append(String.format(Locale.ROOT, "%nPings every 10 ms: %,d sent, %,d answered, %,d lost (%,d during the"
                            + " soak's disturbances, %,d outside them). Longest gap between replies %,d ms (%s); longest"
                            + " outside any disturbance %,d ms.%n", pings.sent(), pings.received(), pings.lost(),
                    pings.lostExplained(), pings.lostUnexplained(), pings.longestGapMillis(), pings.longestGapDuring(),
                    pings.longestUnexplainedGapMillis()));
        }
        b.append("\n| process | pid | resource | first | last | min…max fitted | slope /min ± SE | limit /min | samples from | verdict |\n"
                + "|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (ResourceTrend r : resources) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s…%s | %s ± %s | %s | %d from %s | %s |%n",
                    r.component(), r.pid(), r.resource() + (r.unit().isEmpty() ? "" : " (" + r.unit() + ")"),
                    num(r.first()), num(r.last()), num(r.min()), num(r.max()), signed(r.slopePerMinute()),
                    num(r.slopeStandardError()), num(r.thresholdPerMinute()), r.samplesFitted(),
                    clock(r.fittedFromMillis()), r.verdict()));
        }
        if (atRest != null) {
            b.append(String.format(Locale.ROOT, "%nAt rest (traffic stopped): %s DMA slots in use after %d ms.%n",
                    num(atRest.dmaSlotsInUse()), atRest.waitedMillis()));
            b.append("\n| process at rest | fds before | fds after | threads before | threads after |\n|---|---:|---:|---:|---:|\n");
            for (Idle i : atRest.processes()) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", i.component(), num(i.fdsBefore()),
                        num(i.fdsAfter()), num(i.threadsBefore()), num(i.threadsAfter())));
            }
        }
        if (logs != null) {
            b.append(String.format(Locale.ROOT, "%nLogs: %d WARN/ERROR lines during the soak, %d explained by its own"
                    + " disturbances, %d not.%n", logs.total(), logs.explained(), logs.unexplained().size()));
            logs.byCause().forEach((cause, n) -> b.append(String.format("- %s: %d%n", cause, n)));
            for (LogAudit.Line l : logs.unexplained()) {
                b.append(String.format("- UNEXPLAINED %s: %s%n", l.process(), l.text()));
            }
        }
        b.append("\n| ms | event | back after ms | note |\n|---:|---|---:|---|\n");
        for (Event e : events) {
            b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s |%n", e.startMillis(), e.what(),
                    e.settledMillis() < 0 ? "–" : Long.toString(e.settledMillis() - e.startMillis()),
                    e.note() == null ? "" : e.note()));
        }
        return b.toString();
    }

    static String clock(long millis) {
        return String.format(Locale.ROOT, "%d:%02d", millis / 60_000, millis / 1000 % 60);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "–" : v == Math.rint(v) && Math.abs(v) < 1e9 ? String.format(Locale.ROOT, "%d", (long) v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    private static String signed(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%+.3f", v);
    }
}
