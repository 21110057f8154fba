package io.cardnet.lab.bench;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How often each lab process's bus thread was put to sleep and woken: the kernel's count of voluntary context
 * switches ({@code /proc/PID/task/TID/status}) of the threads whose name starts with "bus" (the Netty event loops
 * that move packets). Taken before and after a run of round trips, the difference divided by the round trips is
 * the wake-ups each one cost, the figure a polling or a different doorbell design would change. The kernel's
 * count, not ours: nothing in the data path has to count for it.
 */
public final class WakeUps {
    private WakeUps() {
    }

    /** Voluntary context switches of each component's bus threads now; absent for a process that is not running. */
    public static Map<Component, Long> snapshot(Lab lab) {
        Map<Component, Long> out = new EnumMap<>(Component.class);
        for (Component c : Component.values()) {
            if (lab.isRunning(c)) {
                out.put(c, busThreadSwitches(lab.pid(c)));
            }
        }
        return out;
    }

    /** Wake-ups per round trip of each component between two snapshots, by display name. */
    public static Map<String, Double> perRoundTrip(Map<Component, Long> before, Map<Component, Long> after, int roundTrips) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            if (before.containsKey(c) && after.containsKey(c)) {
                out.put(c.displayName(), (after.get(c) - before.get(c)) / (double) roundTrips);
            }
        }
        return out;
    }

    static long busThreadSwitches(long pid) {
        long sum = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks) {
                try {
                    if (!Files.readString(t.resolve("comm")).startsWith("bus")) {
                        continue;
                    }
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | NumberFormatException gone) {
                    // a thread that ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return sum;
    }
}
