package io.cardnet.lab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time from /proc: the machine's kernel time, and a process's user + system time. */
public final class CpuClock {
    /** USER_HZ: /proc reports clock ticks of 1/100 s on Linux. */
    private static final double TICK = 0.01;

    private CpuClock() {
    }

    /** Seconds all CPUs have spent in the kernel (system, irq, softirq) since boot. */
    static double kernelSeconds() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst();
            String[] f = cpu.trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq ...
            return (Long.parseLong(f[3]) + Long.parseLong(f[6]) + Long.parseLong(f[7])) * TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Seconds all CPUs have spent busy (everything but idle and iowait) since boot. */
    static double busySeconds() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...
            long busy = 0;
            for (int i : new int[]{1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy * TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Seconds of user + system time of process {@code pid}, NaN if it is gone. */
    public static double processSeconds(long pid) {
        return processTime(pid, true);
    }

    /** Seconds of system (kernel) time of process {@code pid}, NaN if it is gone. */
    public static double processKernelSeconds(long pid) {
        return processTime(pid, false);
    }

    private static double processTime(long pid, boolean withUser) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields after the command: state(0) ppid(1) ... utime(11) stime(12)
            return ((withUser ? Long.parseLong(f[11]) : 0) + Long.parseLong(f[12])) * TICK;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
