package io.cardnet.lab.drill;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.HealthCheck;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs a firmware's health checks inside the card's namespace until all pass or the watchdog fires. */
final class HealthWatch {
    private HealthWatch() {
    }

    /** What each check said the last time it ran, and when it first passed (ms after {@code since}). */
    record Outcome(boolean passed, long passedAtMillis, List<DrillReport.CheckResult> checks) {
    }

    static Outcome await(DrillTarget card, Firmware firmware, long sinceNanos, Duration watchdog) throws InterruptedException {
        long deadline = sinceNanos + watchdog.toNanos();
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
        String cardNs = card.cardNamespace();
        try {
            return switch (check) {
                case HealthCheck.Listening l -> NetNamespace.call(cardNs, () -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", l.port()), 500);
                        return null;
                    } catch (IOException e) {
                        return "nothing accepts on port " + l.port() + " (" + e.getMessage() + ")";
                    }
                });
                case HealthCheck.Sysctl s -> NetNamespace.call(cardNs, () -> {
                    Path p = Path.of("/proc/sys", s.key().replace('.', '/'));
                    String v = Files.exists(p) ? Files.readString(p).strip() : null;
                    return s.expected().equals(v) ? null : s.key() + " is " + v;
                });
                case HealthCheck.Command c -> {
                    Shell.Result r = Shell.run(card.onCard(c.argv()), 10);
                    yield r.ok() ? null : "exit " + r.exitCode() + ": " + r.output().strip();
                }
            };
        } catch (Exception e) {
            return e.getMessage();
        }
    }
}
