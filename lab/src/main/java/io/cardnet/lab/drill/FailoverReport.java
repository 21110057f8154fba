package io.cardnet.lab.drill;

import io.cardnet.lab.runtime.PairState;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One failover of a pair, measured (`cardnet failover --json`, failover.json).
 *
 * @param trigger          switch (forced by the command), kill (kill -9 of the active's card-node), hang (SIGSTOP of
 *                         it: the firmware stops heartbeating) or remove (a surprise removal of the active's link)
 * @param detectionMillis  from the trigger to the monitor's first poll that saw the loss (0 for a forced switch)
 * @param takeoverMillis   from detection to the host's route through the new active, its eth0 up
 * @param longestGapMillis the longest gap between ping replies (10 ms apart) after the trigger; -1 without traffic
 * @param steps            the takeover's steps and their ms
 */
public record FailoverReport(String lab, String startedAt, String trigger, int from, int to,
                             long detectionMillis, long takeoverMillis, long longestGapMillis, DrillReport.Pings pings,
                             List<DrillReport.FlowOutcome> flows, Map<String, Long> steps, String note) {

    static FailoverReport of(String lab, String startedAt, String trigger, long triggerAt, PairState.Takeover t,
                             long gap, DrillReport.Pings pings, List<DrillReport.FlowOutcome> flows, String note) {
        return new FailoverReport(lab, startedAt, trigger, t.from(), t.to(), Math.max(0, t.detectedAt() - triggerAt),
                t.takeoverMillis(), gap, pings, flows, t.steps(), note);
    }

    public String text() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "failover on lab %s (%s): card %d → card %d%n", lab, trigger, from, to));
        b.append(String.format(Locale.ROOT, "  detection %d ms, takeover %d ms%n", detectionMillis, takeoverMillis));
        steps.forEach((k, v) -> b.append(String.format(Locale.ROOT, "    %4d ms  %s%n", v, k)));
        if (pings != null) {
            b.append(String.format(Locale.ROOT, "  pings (10 ms apart): sent %d, answered %d, lost %d; longest gap %d ms%n",
                    pings.sent(), pings.received(), pings.lost(), longestGapMillis));
        }
        for (DrillReport.FlowOutcome f : flows) {
            b.append(String.format(Locale.ROOT, "  %s: sent %,d, delivered %s, %s%n", f.name(), f.bytesSent(),
                    f.bytesDelivered() < 0 ? "–" : String.format(Locale.ROOT, "%,d", f.bytesDelivered()), f.note()));
        }
        if (note != null) {
            b.append("  ").append(note).append('\n');
        }
        return b.toString();
    }
}
