package io.cardnet.lab.cli;

import io.cardnet.lab.drill.FailoverReport;
import io.cardnet.lab.drill.FailoverRun;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.PairMonitor;
import io.cardnet.lab.runtime.Privileges;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "failover", mixinStandardHelpOptions = true,
        description = "Move a failover pair's active role (`lab up --cards 2 --pair`) to the standby card, and measure it."
                + " By default a forced, planned switch: the standby commits the state conntrackd synced to it, brings up"
                + " the wire identity (a gratuitous ARP), the host's route to the wire moves to its toe, and the old"
                + " active is fenced (its eth0 down) and becomes the standby. --trigger fails the active instead, the way"
                + " cards fail, and lets the pair's monitor notice and take over. With --traffic, a routed and a NATed"
                + " TCP flow and a ping every 10 ms run through it. Writes results/<time>/failover.json and failover.md.",
        footer = {"", "Examples:",
                "  sudo ./cardnet failover                          # planned switch to the standby",
                "  sudo ./cardnet failover --traffic --trigger kill  # kill -9 the active's card-node under traffic",
                "  sudo ./cardnet failover --trigger hang --json     # SIGSTOP it: missed heartbeats, then SIGCONT",
                "  sudo ./cardnet failover --trigger remove          # surprise-remove the active's link for 3 s",
                "  sudo ./cardnet lab restart card-node --card 0     # after kill: card 0 comes back as the standby",
                "",
                "Exit status: 0 taken over (and, with --traffic, every flow survived intact), 4 a flow did not survive,"
                        + " 1 refused or failed."})
final class FailoverCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    LabCommand.NameOption lab;

    @Option(names = "--trigger", defaultValue = "switch", paramLabel = "switch|kill|hang|remove",
            description = "switch: planned, by this command; kill: kill -9 of the active's card-node; hang: SIGSTOP of it"
                    + " (heartbeats stop); remove: surprise removal of its link (default: ${DEFAULT-VALUE}).")
    String trigger;

    @Option(names = "--traffic", description = "Run a routed and a NATed host→wire TCP flow and a ping every 10 ms"
            + " through the failover (needed for pings lost and per-flow results).")
    boolean traffic;

    @Option(names = "--timeout", converter = Converters.DurationConverter.class, defaultValue = "10s",
            description = "How long to wait for the takeover (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @picocli.CommandLine.Mixin
    BenchCommand.ResultsOptions results;

    @Override
    public Integer call() throws Exception {
        Privileges.requireNetAdmin("cardnet failover");
        Lab l = Lab.attach(lab.name, lab.runRoot, Output::progress);
        FailoverReport r = new FailoverRun(l, new FailoverRun.Options(FailoverRun.Trigger.parse(trigger), traffic,
                timeout), Output::progress).run();
        Path dir = results.newRunDir();
        Output.JSON.writeValue(dir.resolve("failover.json").toFile(), r);
        Files.writeString(dir.resolve("failover.md"), "```\n" + r.text() + "```\n");
        results.print(r, r.text(), dir, "{failover.json,failover.md}");
        return r.flows().stream().allMatch(f -> f.survived() && f.sha256Equal()) ? 0 : 4;
    }

    /** The pair's monitor, as the lab starts it (not for people: `lab up --pair` runs it). */
    @Command(name = "pair-monitor", hidden = true, description = "Watch a pair's links and take over (run by `lab up --pair`).")
    static final class Monitor implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        LabCommand.NameOption lab;

        @Override
        public Integer call() throws Exception {
            Lab l = Lab.attach(lab.name, lab.runRoot, line -> System.out.println(java.time.LocalTime.now() + " " + line));
            new PairMonitor(l).run();
            return 0;
        }
    }
}
