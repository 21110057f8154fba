package io.cardnet.lab.cli;

import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.Privileges;
import io.cardnet.lab.soak.Soak;
import io.cardnet.lab.soak.SoakPlan;
import io.cardnet.lab.soak.SoakReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {"Run a lab for a long time under traffic and disturbance, and check that nothing is lost and"
                + " nothing grows: bulk TCP both ways through the card (host→wire and wire→host, routed) and into the"
                + " card's sink, a ping every 10 ms; faults switched every few seconds (drop, reorder, bitflip,"
                + " lost-doorbell: all recovered by TCP or the link, none loses a byte), 20 link flaps per 10 minutes,"
                + " a capture started and stopped, the link model and coalescing changed and put back, and a restart"
                + " of the card. Every 10 s it samples RSS, open fds and threads (/proc), direct memory and DMA slots in"
                + " use (the processes' /metrics) of pci-link-sim, host-bridge and card-node.",
                "",
                "Goals: every TCP flow arrives whole (bytes and SHA-256), every process's resources are flat (the"
                        + " least-squares slope of each per minute, after a 30 s settle, within its limit), every DMA slot"
                        + " comes back once the traffic stops, and every WARN/ERROR line in the lab's logs is explained by"
                        + " a disturbance the soak caused (its kind and time window). Writes results/<time>/soak.json,"
                        + " soak.md and the capture. The lab's link settings are put back and its faults cleared at the"
                        + " end, also after Ctrl-C, which stops the soak early and still reports."},
        footer = {"", "Examples:",
                "  sudo ./cardnet lab up --detach && sudo ./cardnet soak            # 10 minutes on the default lab",
                "  sudo ./cardnet soak --lab t1 --duration 2m --json                 # the CI soak, JSON for scripts",
                "  sudo ./cardnet soak --duration 1h --rate 16M                      # longer, harder",
                "",
                "Exit status: 0 every goal met, 3 a goal failed (or the soak was stopped early), 1 it could not run."})
final class SoakCommand implements Callable<Integer> {
    @Mixin
    LabCommand.NameOption lab;

    @Option(names = "--duration", defaultValue = "10m", converter = Converters.DurationConverter.class,
            description = "How long the traffic runs, at least 30s; flaps scale with it (20 per 10 minutes) (default:"
                    + " ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--rate", defaultValue = "4M", converter = Converters.SizeConverter.class,
            description = "Bytes per second of each routed flow; the card's sink flow gets half (default: ${DEFAULT-VALUE}).")
    long rate;

    @Option(names = "--fault-every", defaultValue = "5s", converter = Converters.DurationConverter.class,
            description = "How often the fault changes (default: ${DEFAULT-VALUE}).")
    Duration faultEvery;

    @Option(names = "--flap", defaultValue = "1s", converter = Converters.DurationConverter.class,
            description = "How long each link flap keeps the link down (default: ${DEFAULT-VALUE}).")
    Duration flap;

    @Option(names = "--sample-every", defaultValue = "10s", converter = Converters.DurationConverter.class,
            description = "How often every process is sampled (default: ${DEFAULT-VALUE}).")
    Duration sampleEvery;

    @Mixin
    BenchCommand.ResultsOptions results;

    @Override
    public Integer call() throws Exception {
        Privileges.requireNetAdmin("cardnet soak");
        SoakPlan plan = SoakPlan.of(duration, faultEvery, flap.toMillis());
        if (rate <= 0) {
            throw new IllegalArgumentException("--rate must be above 0, e.g. 4M");
        }
        Lab attached = Lab.attach(lab.name, lab.runRoot, Output::progress);
        Path dir = results.newRunDir();
        Soak soak = new Soak(attached, new Soak.Options(plan, rate, sampleEvery, dir), Output.liveProgress());
        // Ctrl-C: the soak stops its plan, puts the lab back and reports; the JVM waits for that before exiting.
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            soak.stop();
            try {
                reported.await(90, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "soak-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            SoakReport report = soak.run();
            Output.JSON.writeValue(dir.resolve("soak.json").toFile(), report);
            Files.writeString(dir.resolve("soak.md"), report.markdown());
            results.print(report, report.markdown(), dir, "{soak.json,soak.md}");
            System.out.flush();
            return report.passed() ? 0 : 3;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and has been let go
            }
        }
    }
}
