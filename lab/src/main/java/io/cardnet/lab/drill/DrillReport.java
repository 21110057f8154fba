package io.cardnet.lab.drill;

import java.util.List;
import java.util.Locale;

/**
 * What a drill did and measured: the JSON written to drill.json, and {@link #markdown()} for drill.md.
 *
 * @param result      "committed" (the new firmware passed its health checks within the watchdog) or
 *                    "rolled back" (it did not; the card runs the old slot again)
 * @param timeline    events in ms after the swap started
 * @param outageMillis the longest time without a ping reply around the swap (-1 without --traffic)
 * @param kernelBefore the card's kernel release before the swap ({@code uname -r} on the card: a VM card's own
 *                     kernel, the host's for a namespace or container card)
 */
public record DrillReport(String lab, String startedAt, String versionBefore, String versionTarget,
                          String versionAfter, String result, long watchdogMillis, List<Event> timeline,
                          long outageMillis, Pings pings, List<FlowOutcome> flows, List<CheckResult> health,
                          ProbeResult probeBefore, ProbeResult probeAfter, HostState hostState, String kernelBefore,
                          String kernelAfter) {

    /** The host's addresses and routes (hard state) before and after the drill; {@code kept} if identical. */
    public record HostState(boolean kept, String before, String after) {
    }

    public record Event(String what, long atMillis) {
    }

    public record Pings(long sent, long received, long lost) {
    }

    /**
     * One traffic flow. {@code hardState} flows (host TCP routed through the card) must survive a swap;
     * soft-state ones (the card's own connections) may be reset by the reboot. {@code bytesSentBeforeSwap} of
     * {@code bytesSent} were written before the swap began: a flow with bytes on both sides of it spanned the swap.
     */
    public record FlowOutcome(String name, boolean hardState, long bytesSent, long bytesSentBeforeSwap,
                              long bytesDelivered, boolean sha256Equal, boolean survived, String note) {
        /** True if the flow carried bytes both before the swap began and after it. */
        public boolean spannedSwap() {
            return bytesSentBeforeSwap > 0 && bytesSent > bytesSentBeforeSwap;
        }
    }

    public record CheckResult(String check, String declaredAt, boolean passed, long passedAtMillis, String detail) {
    }

    /** {@code passed} is true when the wire could NOT reach the host. */
    public record ProbeResult(String probe, boolean passed, String detail) {
    }

    public boolean committed() {
        return result.equals("committed");
    }

    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# cardnet drill: ").append(versionBefore).append(" → ").append(versionTarget).append("\n\n");
        b.append(String.format(Locale.ROOT, "Lab %s, started %s. **%s**: the card runs %s. Watchdog %d ms.%n%n", lab,
                startedAt, result, versionAfter, watchdogMillis));
        b.append(String.format("The card's kernel: %s before, %s after.%n%n", kernelBefore, kernelAfter));
        b.append("| ms after swap | event |\n|---:|---|\n");
        for (Event e : timeline) {
            b.append(String.format(Locale.ROOT, "| %d | %s |%n", e.atMillis(), e.what()));
        }
        b.append(String.format("%nHost state (toe0's addresses and the host's routes, hard state): %s.%n",
                hostState.kept() ? "unchanged" : "CHANGED: before " + hostState.before() + "; after " + hostState.after()));
        if (pings != null) {
            b.append(String.format(Locale.ROOT, "%nOutage (longest gap between ping replies, 10 ms apart): **%d ms**;"
                    + " pings sent %d, answered %d, lost %d.%n", outageMillis, pings.sent(), pings.received(), pings.lost()));
        }
        if (!flows.isEmpty()) {
            b.append("\n| flow | state | bytes sent | bytes delivered | SHA-256 | outcome |\n|---|---|---:|---:|---|---|\n");
            for (FlowOutcome f : flows) {
                b.append(String.format(Locale.ROOT, "| %s | %s | %,d | %s | %s | %s |%n", f.name(),
                        f.hardState() ? "hard (must survive)" : "soft (card's own, may be lost)", f.bytesSent(),
                        f.bytesDelivered() < 0 ? "–" : String.format(Locale.ROOT, "%,d", f.bytesDelivered()),
                        f.sha256Equal() ? "equal" : "–", f.note()));
            }
        }
        b.append("\n| health check | declared | passed | ms after swap | detail |\n|---|---|---|---:|---|\n");
        for (CheckResult c : health) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", c.check(), c.declaredAt(),
                    c.passed() ? "yes" : "NO", c.passedAtMillis() < 0 ? "–" : Long.toString(c.passedAtMillis()),
                    c.detail() == null ? "" : c.detail().replace('|', '/').replace('\n', ' ')));
        }
        b.append("\n| security probe | before | after |\n|---|---|---|\n");
        b.append(String.format("| %s | %s | %s |%n", probeBefore.probe(), verdict(probeBefore), verdict(probeAfter)));
        return b.toString();
    }

    private static String verdict(ProbeResult p) {
        return (p.passed() ? "passes: " : "FAILS: ") + p.detail();
    }
}
