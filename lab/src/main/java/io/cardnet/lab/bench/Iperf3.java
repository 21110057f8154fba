package io.cardnet.lab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * iperf3 between two namespaces: a one-off server in one, the client in the other. iperf3 3.12 exits 0 even
 * when it cannot connect (the error is only in its JSON), so a run counts only if its JSON has no error.
 */
public final class Iperf3 {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Iperf3() {
    }

    /** True if iperf3 is on the PATH. */
    public static boolean installed() {
        return java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(dir -> java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, "iperf3")));
    }

    /** Goodput in Gb/s of one TCP stream, zero-copy sender, {@code seconds} long, first second omitted. */
    public static double run(String serverNs, String clientNs, String address, int seconds) throws Exception {
        return run(serverNs, clientNs, address, seconds, 1);
    }

    /**
     * One stream from the host side to an iperf3 server on the card itself, started there with `card exec`
     * (a VM card's namespace on this machine holds only its cable).
     */
    public static double runAgainstCard(io.cardnet.lab.runtime.Lab lab, int seconds) throws Exception {
        io.cardnet.lab.runtime.ExecResult started = lab.execOnCard(List.of("iperf3", "-s", "-1", "-D", "-B",
                lab.cardAddress()), java.time.Duration.ofSeconds(30));
        if (!started.ok()) {
            throw new IOException("iperf3 -s did not start on the card: " + started.output());
        }
        return client(lab.hostNamespace(), lab.cardAddress(), seconds, 1);
    }

    /** As {@link #run(String, String, String, int)} with {@code streams} parallel TCP streams, summed. */
    public static double run(String serverNs, String clientNs, String address, int seconds, int streams) throws Exception {
        Process server = new ProcessBuilder(Shell.inNamespace(serverNs, List.of("iperf3", "-s", "-1", "-B", address)))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            return client(clientNs, address, seconds, streams);
        } finally {
            server.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** The client side, retried until the server (just started) accepts. */
    private static double client(String clientNs, String address, int seconds, int streams) throws Exception {
        String last = "";
        for (int attempt = 0; attempt < 25; attempt++) {
            Shell.Result r = Shell.run(Shell.inNamespace(clientNs, List.of("iperf3", "-c", address, "-t",
                    Integer.toString(seconds), "-O", "1", "-Z", "-P", Integer.toString(streams), "-J")), seconds + 60L);
            JsonNode out = r.output().isBlank() ? null : JSON.readTree(r.output());
            if (r.ok() && out != null && !out.has("error") && out.path("end").has("sum_received")) {
                return out.path("end").path("sum_received").path("bits_per_second").asDouble() / 1e9;
            }
            last = out != null && out.has("error") ? out.get("error").asText() : r.output();
            Thread.sleep(200);
        }
        throw new IOException("iperf3 never ran: " + last);
    }
}
