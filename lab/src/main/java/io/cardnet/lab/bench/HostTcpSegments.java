package io.cardnet.lab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * TCP segments a namespace's kernel has sent (Tcp: OutSegs of /proc/net/snmp; a GSO/TSO packet counts as the
 * segments it becomes). /proc/net/snmp belongs to a network namespace; /proc/net itself follows the process's main
 * thread, so this reads /proc/thread-self/net/snmp: call it on a thread inside the namespace to be counted.
 */
final class HostTcpSegments {
    private HostTcpSegments() {
    }

    /** OutSegs of the calling thread's network namespace. */
    static long outSegs() throws IOException {
        List<String> tcp = Files.readAllLines(Path.of("/proc/thread-self/net/snmp")).stream()
                .filter(l -> l.startsWith("Tcp:")).toList();
        List<String> names = List.of(tcp.get(0).split("\\s+"));
        return Long.parseLong(tcp.get(1).split("\\s+")[names.indexOf("OutSegs")]);
    }
}
