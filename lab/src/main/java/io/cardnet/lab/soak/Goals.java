package io.cardnet.lab.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Issue 14's goals for a soak, judged from what it measured, and checks reported beside them. Every DMA slot back
 * at rest is a check, not a goal: on the direct rings, one descriptor can stay published and unconsumed while the
 * lab idles after a soak (seen as 1 slot in use for 15 s; traffic in that direction takes it along), which is a
 * wake-up the consumer missed, reported for the bus's owners rather than failing every soak.
 */
final class Goals {
    private Goals() {
    }

    static List<SoakReport.Goal> judge(List<SoakReport.FlowResult> flows, List<SoakReport.ResourceTrend> trends,
                                       SoakReport.AtRest rest, LogAudit.Result logs, boolean cut) {
        List<SoakReport.Goal> goals = new ArrayList<>();
        List<SoakReport.FlowResult> broken = flows.stream().filter(f -> !f.intact()).toList();
        long bytes = flows.stream().mapToLong(SoakReport.FlowResult::bytesSent).sum();
        goals.add(new SoakReport.Goal("0 bytes lost on every TCP flow (SHA-256)", true, !flows.isEmpty() && broken.isEmpty(),
                broken.isEmpty() ? String.format(Locale.ROOT, "%d flows, %,d bytes, all arrived with equal SHA-256",
                        flows.size(), bytes)
                        : broken.stream().map(f -> f.name() + ": " + f.note()).collect(Collectors.joining("; "))));

        List<SoakReport.ResourceTrend> growing = trends.stream().filter(t -> !t.flat()).toList();
        List<String> unjudged = trends.stream().map(SoakReport.ResourceTrend::component).distinct()
                .filter(c -> trends.stream().noneMatch(t -> t.component().equals(c) && t.verdict().equals("flat")))
                .toList();
        goals.add(new SoakReport.Goal("every process's resources flat", true, growing.isEmpty() && unjudged.isEmpty()
                && !trends.isEmpty(),
                !growing.isEmpty() ? growing.stream().map(t -> String.format(Locale.ROOT, "%s %s grows %+.3f%s/min"
                                + " (limit %.3f)", t.component(), t.resource(), t.slopePerMinute(),
                        t.unit().isEmpty() ? "" : " " + t.unit(), t.thresholdPerMinute())).collect(Collectors.joining("; "))
                        : !unjudged.isEmpty() ? "too few samples to judge " + String.join(", ", unjudged)
                        : "slopes within their limits for every process (table below)"));

        boolean back = rest != null && rest.dmaSlotsInUse() == 0;
        goals.add(new SoakReport.Goal("every DMA slot back once the traffic stops", false, back,
                rest == null ? "not measured" : String.format(Locale.ROOT, "%.0f in use after %d ms",
                        rest.dmaSlotsInUse(), rest.waitedMillis())));
        List<SoakReport.Idle> kept = rest == null ? List.of() : rest.processes().stream().filter(i -> !i.back()).toList();
        goals.add(new SoakReport.Goal("fds and threads at rest as before the soak", true, rest != null
                && !rest.processes().isEmpty() && kept.isEmpty(),
                rest == null ? "not measured" : kept.isEmpty() ? "every process within "
                        + SoakReport.Idle.TOLERANCE + " of its idle count before"
                        : kept.stream().map(i -> String.format(Locale.ROOT, "%s: fds %.0f → %.0f, threads %.0f → %.0f",
                        i.component(), i.fdsBefore(), i.fdsAfter(), i.threadsBefore(), i.threadsAfter()))
                        .collect(Collectors.joining("; "))));

        goals.add(new SoakReport.Goal("no log error the soak did not cause", true, logs.unexplained().isEmpty(),
                logs.unexplained().isEmpty() ? String.format(Locale.ROOT, "%d WARN/ERROR lines, each explained by a"
                        + " disturbance of the soak", logs.total())
                        : logs.unexplained().size() + " unexplained, first: " + logs.unexplained().getFirst().process()
                        + ": " + logs.unexplained().getFirst().text()));
        if (cut) {
            goals.add(new SoakReport.Goal("ran its full duration", true, false, "stopped early (Ctrl-C or a failure)"));
        }
        return goals;
    }
}
