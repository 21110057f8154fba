package io.cardnet.lab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * TCP segments a namespace's kernel has sent and received (Tcp: OutSegs and InSegs of /proc/net/snmp; a GSO/TSO
 * packet counts as the segments it becomes, a GRO packet as one). /proc/net/snmp belongs to a network namespace; /proc/net itself follows the process's main
 * thread, so this reads /proc/thread-self/net/snmp: call it on a thread inside the namespace to be counted.
 */
final class HostTcpSegments {
    private HostTcpSegments() {
    }

    /** OutSegs and InSegs of the calling thread's network namespace, in that order. */
    static long[] outAndIn() throws IOException {
        List<String> tcp = Files.readAllLines(Path.of("/proc/thread-self/net/snmp")).stream()
                .filter(l -> l.startsWith("Tcp:")).toList();
        List<String> names = List.of(tcp.get(0).split("\\s+"));
        String[] values = tcp.get(1).split("\\s+");
        return new long[]{Long.parseLong(values[names.indexOf("OutSegs")]), Long.parseLong(values[names.indexOf("InSegs")])};
    }
}
