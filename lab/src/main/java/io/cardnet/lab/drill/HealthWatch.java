package io.cardnet.lab.drill;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.HealthCheck;
import io.cardnet.lab.runtime.ExecResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a firmware's health checks on the card until all pass or the watchdog fires. Every check runs on the card
 * itself ({@link DrillTarget#execOnCard}), so the same checks judge a namespace, a container and a VM card.
 */
final class HealthWatch {
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);
    private HealthWatch() {
    }

    /** What each check said the last time it ran, and when it first passed (ms after {@code since}). */
    record Outcome(boolean passed, long passedAtMillis, List<DrillReport.CheckResult> checks) {
    }

    /** Times in the outcome are ms after {@code sinceNanos}; checks run until all pass or {@code deadlineNanos}. */
    static Outcome await(DrillTarget card, Firmware firmware, long sinceNanos, long deadlineNanos) throws InterruptedException {
        long deadline = deadlineNanos;
        Map<HealthCheck, Long> passedAt = new LinkedHashMap<>();
        Map<HealthCheck, String> last = new LinkedHashMap<>();
        while (true) {
            for (HealthCheck c : firmware.health()) {
                if (passedAt.containsKey(c)) {
                    continue;
                }
                String failure = run(card, c);
                last.put(c, failure);
                if (failure == null) {
                    passedAt.put(c, (System.nanoTime() - sinceNanos) / 1_000_000);
                }
            }
            boolean all = passedAt.size() == firmware.health().size();
            if (all || System.nanoTime() > deadline) {
                List<DrillReport.CheckResult> results = new ArrayList<>();
                for (HealthCheck c : firmware.health()) {
                    Long at = passedAt.get(c);
                    results.add(new DrillReport.CheckResult(c.describe(), "firmware.yaml:" + c.line(), at != null,
                            at == null ? -1 : at, at != null ? "passed" : last.get(c)));
                }
                long when = all ? passedAt.values().stream().mapToLong(Long::longValue).max().orElse(0) : -1;
                return new Outcome(all, when, results);
            }
            Thread.sleep(50);
        }
    }

    /** Null if the check passes, else why not. */
    static String run(DrillTarget card, HealthCheck check) {
        try {
            return switch (check) {
                case HealthCheck.Listening l -> {
                    // bash's /dev/tcp: a TCP connect from inside the card, with nothing but the shell every card has
                    ExecResult r = card.execOnCard(List.of("bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + l.port()), CHECK_TIMEOUT);
                    yield r.ok() ? null : "nothing accepts on port " + l.port() + " (" + r.output() + ")";
                }
                case HealthCheck.Sysctl s -> {
                    ExecResult r = card.execOnCard(List.of("cat", "/proc/sys/" + s.key().replace('.', '/')), CHECK_TIMEOUT);
                    String v = r.ok() ? r.stdout().strip() : null;
                    yield s.expected().equals(v) ? null : s.key() + " is " + (v == null ? "unreadable (" + r.output() + ")" : v);
                }
                case HealthCheck.Ipsec i -> {
                    ExecResult r = card.execOnCard(List.of("ip", "-o", "link", "show", "esp0"), CHECK_TIMEOUT);
                    yield r.ok() && r.stdout().contains(",UP") ? null
                            : "the ESP tunnel's esp0 is not up on the card (" + r.output().strip() + ")";
                }
                case HealthCheck.Command c -> {
                    ExecResult r = card.execOnCard(c.argv(), CHECK_TIMEOUT);
                    yield r.ok() ? null : "exit " + r.exitCode() + ": " + r.output();
                }
            };
        } catch (Exception e) {
            return e.getMessage();
        }
    }
}
