package io.cardnet.lab;

import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabNames;
import io.cardnet.lab.runtime.Shell;
import io.cardnet.netdev.NetNamespace;
import io.cardnet.netdev.testing.RootRequired;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An isolated lab for one test class, with a unique name. {@link #close()} takes it down and then checks
 * that nothing of it remains: no namespace, no run directory, no process — and fails the test if anything does.
 */
final class TestLab implements AutoCloseable {
    final Lab lab;
    final String name;
    private final java.util.Set<String> callerInterfacesBefore;
    /** The logs' last lines when the lab went down (null while it is up). */
    private volatile String logsAtClose;

    private TestLab(Lab lab, java.util.Set<String> callerInterfacesBefore) {
        this.lab = lab;
        this.name = lab.config().name();
        this.callerInterfacesBefore = callerInterfacesBefore;
    }

    static TestLab up(java.util.function.UnaryOperator<LabConfig> customize) throws IOException {
        RootRequired.check();
        String name = "it" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
        LabConfig cfg = customize.apply(LabConfig.defaults(name).withIsolated(true)
                .withMetricsPorts(new LabConfig.MetricsPorts(9470, 9471, 9472)));
        java.util.Set<String> before = callerInterfaces();
        Lab lab = Lab.up(cfg, line -> System.out.println("[" + name + "] " + line));
        assertEquals(before, callerInterfaces(), "an isolated lab changed the caller's interfaces");
        return new TestLab(lab, before);
    }

    String hostNs() {
        return lab.hostNamespace();
    }

    String cardNs() {
        return lab.names().cardNamespace();
    }

    String wireNs() {
        return lab.names().wireNamespace();
    }

    /** GETs {@code url} (e.g. a /metrics page); run it inside a namespace with {@link #in}. */
    static String httpGet(String url) throws IOException {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
        c.setConnectTimeout(3000);
        c.setReadTimeout(5000);
        try (java.io.InputStream in = c.getInputStream()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    /** Runs {@code work} on a thread inside {@code ns}: sockets it opens live in that namespace. */
    static <T> T in(String ns, Callable<T> work) throws Exception {
        return NetNamespace.call(ns, work);
    }

    /** Serves one transfer on {@code sink} in the background; the sink's socket already lives in its namespace. */
    static java.util.concurrent.CompletableFuture<io.cardnet.card.services.TransferReport> receiveOne(
            io.cardnet.lab.tools.Sink sink) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return sink.acceptOne();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** One transfer's two ends: what the sender sent and what the receiving sink counted and checked. */
    record Transfer(io.cardnet.lab.tools.Sender.Result sent, io.cardnet.card.services.TransferReport received) {
        boolean intact() {
            return received.agrees(sent.bytes(), sent.check(), sent.value());
        }
    }

    /** {@code size} bytes from the host to the card's sink (port 9), across the bus. */
    Transfer hostToCard(long size) throws Exception {
        var r = in(hostNs(), () -> io.cardnet.lab.tools.Sender.send(new java.net.InetSocketAddress("198.18.0.2", 9),
                size, n -> { }));
        return new Transfer(r, r.sink());
    }

    /** {@code size} bytes from the card to a sink on the host at 198.18.0.1:{@code port}, across the bus. */
    Transfer cardToHost(long size, int port) throws Exception {
        try (var sink = in(hostNs(), () -> io.cardnet.lab.tools.Sink.listen(new java.net.InetSocketAddress("198.18.0.1", port)))) {
            var received = receiveOne(sink);
            var sent = in(cardNs(), () -> io.cardnet.lab.tools.Sender.send(
                    new java.net.InetSocketAddress("198.18.0.1", port), size, n -> { }));
            return new Transfer(sent, received.get(180, java.util.concurrent.TimeUnit.SECONDS));
        }
    }

    /** A request to the simulator's control socket, e.g. link("op", "set", "model", "gen2x1"). */
    com.fasterxml.jackson.databind.JsonNode link(Object... keysAndValues) throws IOException {
        java.util.Map<String, Object> r = new java.util.LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            r.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return io.cardnet.lab.runtime.ControlClient.request(lab.runDir().resolve("control.sock"), r);
    }

    /** A bus counter from `status` ("interrupt/h2c/receive", ...), 0 if it never moved. */
    long counter(String name) throws IOException {
        return lab.linkStatus().path("counters").path(name).asLong(0);
    }

    /**
     * A card-node metric, scraped across the link from the host side: the sum of its series whose labels hold every
     * one of {@code labels} (e.g. {@code from="host"}); fails the test if card-node has no such metric.
     */
    double cardMetric(String name, String... labels) throws Exception {
        String text = in(hostNs(), () -> httpGet("http://" + lab.cardAddress() + ":9472/metrics"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(name)
                + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            String tags = m.group(1) == null ? "" : m.group(1);
            if (java.util.Arrays.stream(labels).allMatch(tags::contains)) {
                found = true;
                sum += Double.parseDouble(m.group(2));
            }
        }
        assertTrue(found, name + " " + java.util.Arrays.toString(labels) + " is not among card-node's metrics");
        return sum;
    }

    /**
     * The stock ssh into the card's console as `cardnet card console` runs it (the lab's key, known_hosts checked
     * strictly), from the host side, with {@code extra} options first (ssh keeps an option's first value).
     */
    Shell.Result ssh(List<String> extra, String... command) throws IOException {
        List<String> argv = new ArrayList<>(lab.consoleKeys().sshCommand(lab.cardAddress(), List.of(command)));
        argv.addAll(1, extra);
        argv.addAll(1, List.of("-o", "BatchMode=yes"));
        return Shell.run(Shell.inNamespace(hostNs(), argv), 120);
    }

    /** Removes {@code dir} and everything below it, if it exists (a test's scratch space). */
    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Runs a command in a namespace and returns its result (never throws for a non-zero exit). */
    static Shell.Result exec(String ns, String... command) throws IOException {
        return Shell.run(Shell.inNamespace(ns, List.of(command)), 120);
    }

    long pid(Component c) {
        return lab.pid(c);
    }

    /** Prints the tail of every component log (and a VM card's console): called when a test fails, before the lab goes away. */
    /** Prints the last lines of each component's log: as they were when the lab went down, if it has. */
    void dumpLogs() {
        System.out.print(logsAtClose != null ? logsAtClose : lastLogLines());
    }

    private String lastLogLines() {
        List<Path> logs = new ArrayList<>();
        for (Component c : Component.values()) {
            logs.add(lab.runDir().resolve(c.command() + ".log"));
        }
        if (lab.state().vm() != null) {
            logs.add(lab.cardConsole());
        }
        StringBuilder b = new StringBuilder();
        for (Path log : logs) {
            try {
                List<String> lines = Files.readAllLines(log);
                b.append("---- ").append(log).append(" (last 40 lines)\n");
                lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(l -> b.append(l).append('\n'));
            } catch (IOException e) {
                b.append("---- ").append(log).append(": ").append(e).append('\n');
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException {
        List<Long> pids = new ArrayList<>();
        // this object's view, and the state file's (a drill run from the CLI replaces card-node)
        Lab current = Lab.attach(name, lab.config().runRoot(), s -> { });
        for (Component c : Component.values()) {
            pids.add(lab.pid(c));
            pids.add(current.pid(c));
        }
        // a failed test's watcher runs after this close: keep what the logs said for it
        logsAtClose = lastLogLines();
        lab.down();
        assertNothingLeft(name, pids);
        assertEquals(callerInterfacesBefore, callerInterfaces(), "the caller's interfaces changed");
    }

    static void assertNothingLeft(String name, List<Long> pids) throws IOException {
        for (String ns : new LabNames(name).allNamespaces()) {
            assertTrue(!Files.exists(Path.of("/run/netns", ns)), "namespace " + ns + " was left behind");
        }
        String netns = Shell.check(List.of("ip", "netns", "list"));
        assertTrue(!netns.contains("cardnet-" + name + "-"), "ip netns list still shows the lab: " + netns);
        assertTrue(!Files.exists(LabConfig.RUN_ROOT.resolve(name)), "run directory of " + name + " was left behind");
        assertTrue(!Files.exists(LabConfig.defaults(name).dmaDir()), "the DMA regions of " + name + " were left behind");
        for (long pid : pids) {
            assertEquals(false, Lab.isRunning(pid), "process " + pid + " of lab " + name + " is still running");
        }
    }

    /**
     * Interface names in the caller's namespace: an isolated lab must leave this set exactly as it found it. A Docker
     * engine's bridges and the veths it plugs into them are left out: they come and go with containers that another
     * test (a compose lab) or the machine's owner runs, and no cardnet netns lab creates one.
     */
    static java.util.Set<String> callerInterfaces() throws IOException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (String line : Shell.check(List.of("ip", "-o", "link", "show")).split("\n")) {
            String[] parts = line.split(":\\s+", 3);
            if (parts.length >= 2 && !dockers(parts[1], line)) {
                names.add(parts[1].replaceAll("@.*", ""));
            }
        }
        return names;
    }

    private static boolean dockers(String name, String line) {
        return name.equals("docker0") || name.startsWith("br-") || line.contains(" master docker0 ")
                || line.contains(" master br-");
    }
}
