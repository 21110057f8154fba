package io.cardnet.lab.soak;

import io.cardnet.lab.drill.Pinger;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The soak's pings, judged against its disturbances: a ping lost, or a gap between replies, while the link was
 * being flapped, the card restarted or a drop fault was on is the soak's own doing; one outside them is not.
 */
final class Pings {
    /** Before a disturbance (a ping in flight) and after it (ping's reply deadline, a slow machine). */
    static final long BEFORE_MILLIS = 1_000;
    static final long AFTER_MILLIS = 2_000;

    private Pings() {
    }

    static SoakReport.Pings of(Pinger pinger, List<SoakReport.Event> events, long t0Wall) {
        List<long[]> replies = pinger.replies();
        long sent = pinger.sent();
        Set<Long> answered = new HashSet<>();
        for (long[] r : replies) {
            answered.add(r[1]);
        }
        long received = answered.stream().filter(s -> s <= sent).count();
        // a lost ping is explained by the "no answer yet" line ping printed for it; one lost without such a line
        // (the last ones before ping stopped) is not
        long explained = 0;
        Set<Long> counted = new HashSet<>();
        for (long[] u : pinger.unanswered()) {
            if (u[1] <= sent && !answered.contains(u[1]) && counted.add(u[1])
                    && during(u[0] - t0Wall, u[0] - t0Wall, events) != null) {
                explained++;
            }
        }
        long lost = sent - received;
        long gap = 0;
        String gapDuring = "–";
        long gapUnexplained = 0;
        for (int i = 1; i < replies.size(); i++) {
            long from = replies.get(i - 1)[0] - t0Wall;
            long to = replies.get(i)[0] - t0Wall;
            String cause = during(from, to, events);
            if (to - from > gap) {
                gap = to - from;
                gapDuring = cause == null ? "outside any disturbance" : cause;
            }
            if (cause == null) {
                gapUnexplained = Math.max(gapUnexplained, to - from);
            }
        }
        return new SoakReport.Pings(sent, received, lost, explained, Math.max(0, lost - explained), gap, gapDuring,
                gapUnexplained);
    }

    /**
     * The disturbance that overlaps [from, to] (ms after the soak began), or null. Any of the soak's steps can take
     * the link down (a flap, the card's restart, or a retrain when descriptors move between the direct rings and the
     * simulator, as a fault switch, the capture or a setting can cause): each counts until the link was back. A drop
     * fault counts for as long as it was on.
     */
    private static String during(long from, long to, List<SoakReport.Event> events) {
        for (SoakReport.Event e : events) {
            long end = Math.max(e.settledMillis(), e.kind().equals("fault drop") ? e.activeUntilMillis() : -1);
            if (to >= e.startMillis() - BEFORE_MILLIS && from <= end + AFTER_MILLIS) {
                return e.kind();
            }
        }
        return null;
    }
}
