package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Linux capabilities each lab process keeps, and what a running process has (/proc/PID/status CapEff).
 *
 * <p>The processes run as root in their namespaces, but none needs root's whole set (41 capabilities). Each is
 * started through util-linux's {@code setpriv} with its bounding set cut to what it uses for its whole life, so
 * root's exec gives it exactly those, in every thread and in every child it runs ({@code ip}, {@code nft}, a console
 * shell), and nothing can raise them again. Dropping them from inside the JVM once the devices exist would not be
 * enough: capset(2) changes only the calling thread, and a JVM's other threads (the GC's, the JIT's, the launcher's
 * first thread that /proc/PID/status reports) are out of Java's reach.
 *
 * <ul>
 *   <li>the simulator: none (its sockets, DMA regions and /metrics are root's files and unprivileged ports);</li>
 *   <li>host-bridge: none. The lab makes each toeK itself ({@link HostTuns}): a persistent TUN owned by the uid
 *       host-bridge runs as, with its MTU, address, routes and link up; host-bridge starts with {@code --attach}.
 *       The kernel's tun_not_capable() lets a persistent TUN's owner attach to it (TUNSETIFF), and nothing it does on
 *       its own file descriptors afterwards checks a capability: TUNSETQUEUE (its queues detach and attach again at
 *       each retrain), TUNSETCARRIER (the carrier follows the link), TUNSETOFFLOAD, TUNSETVNETHDRSZ (tried on this
 *       kernel and read in drivers/net/tun.c; SIOCSIFMTU and SIOCSIFFLAGS do need net_admin, so the lab sets those).
 *       With {@code --export} it keeps {@code dac_read_search}, to read a directory whatever its owner made it.
 *       Without {@code --attach} (run by hand, creating toe0 and adding {@code --route}s) it keeps {@code net_admin};</li>
 *   <li>card-node: {@code net_admin} (host0, esp0, forwarding, nftables, the relay's IP_TRANSPARENT and policy route),
 *       {@code net_raw} (the console's ping, raw sockets on the card) and {@code net_bind_service} (echo 7, sink 9,
 *       the console 22, httpd 80). No {@code sys_admin}: it dry-runs a firmware's ruleset with {@code nft -c} in the
 *       card's own namespace, which commits nothing; the throwaway namespace ({@code unshare --net}) is for the
 *       {@code cardnet} command, which checks a firmware before a drill.</li>
 *   <li>a card VM's QEMU (started by {@code VmCard}): none.</li>
 * </ul>
 */
public final class Capabilities {
    /** Capability names by number (linux/capability.h, lower case without CAP_). */
    static final List<String> NAMES = List.of("chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
            "setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
            "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin",
            "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
            "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend",
            "audit_read", "perfmon", "bpf", "checkpoint_restore");

    private Capabilities() {
    }

    /** What {@code component}, started with {@code args}, keeps. */
    public static Set<String> kept(Component component, List<String> args) {
        return switch (component) {
            case SIM -> Set.of();
            case HOST_BRIDGE -> {
                Set<String> keep = new TreeSet<>();
                if (!args.contains("--attach")) {
                    keep.add("net_admin");
                }
                if (args.contains("--export")) {
                    keep.add("dac_read_search");
                }
                yield Set.copyOf(keep);
            }
            case CARD_NODE -> Set.of("net_admin", "net_raw", "net_bind_service");
        };
    }

    /** Why {@code component}, started with {@code args}, keeps what it keeps: one line for `lab status`. */
    public static String why(Component component, List<String> args) {
        return switch (component) {
            case SIM -> "its sockets, DMA regions and /metrics need none";
            case HOST_BRIDGE -> (args.contains("--attach")
                    ? "its TUN is the lab's: persistent, owned by host-bridge's uid, addressed and routed by the lab;"
                            + " host-bridge only attaches its queues"
                    : "net_admin: it creates its TUN and routes")
                    + (args.contains("--export") ? "; dac_read_search to read --export" : "");
            case CARD_NODE -> "net_admin for host0, forwarding and nftables; net_raw for ping and raw sockets;"
                    + " net_bind_service for ports below 1024";
        };
    }

    /** The {@code setpriv} prefix that starts a command with exactly {@code keep} (root's exec fills them in). */
    static List<String> confine(Set<String> keep) {
        if (!onPath("setpriv")) {
            throw new LabException("setpriv not found on PATH: the lab starts each process through it with only the"
                    + " capabilities it needs; install util-linux (Debian: apt-get install util-linux)");
        }
        StringBuilder bounding = new StringBuilder("-all");
        new TreeSet<>(keep).forEach(c -> bounding.append(",+").append(c));
        return List.of("setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=" + bounding, "--");
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** The effective capabilities of a running process by name, lowest first; empty if it has none or is gone. */
    public static List<String> effective(long pid) {
        return effectiveIn(Path.of("/proc", Long.toString(pid), "status"));
    }

    /** The CapEff line of a /proc status file (a process's, or one thread's under task/) by name. */
    public static List<String> effectiveIn(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("CapEff:")) {
                    return decode(Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16));
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + status, e);
        }
        return List.of();
    }

    /** A capability mask as names, lowest bit first; bits beyond the known ones as {@code cap_N}. */
    static List<String> decode(long mask) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((mask & (1L << bit)) != 0) {
                names.add(bit < NAMES.size() ? NAMES.get(bit) : "cap_" + bit);
            }
        }
        return names;
    }
}
