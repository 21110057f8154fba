package io.cardnet.lab.cli;

import io.cardnet.lab.drill.Drill;
import io.cardnet.lab.drill.DrillReport;
import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.Privileges;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "drill", mixinStandardHelpOptions = true,
        description = "Patch the card's firmware under traffic and measure the outage: install the new firmware into the"
                + " standby slot, swap (the card reboots: its namespace is recreated, its container or its VM started anew"
                + " on the new firmware and, for a VM, the firmware's kernel), run its health checks within the"
                + " watchdog, then commit, or roll back to the old slot automatically. Writes results/<time>/drill.json"
                + " and drill.md: timeline, outage, pings lost, bytes and SHA-256 per flow, health checks, and a"
                + " security probe (can the wire reach the host through the card?) before and after.",
        footer = {"", "Examples:",
                "  sudo ./cardnet drill --to 1.0.1 --traffic                 # the shipped fix, under traffic",
                "  sudo ./cardnet drill --to ./my-firmware --watchdog 10s    # a firmware directory of your own",
                "  sudo ./cardnet drill --to 1.0.0 --lab t1 --json           # roll forward/back by hand, JSON for scripts",
                "  sudo ./cardnet drill --runtime compose --to 1.0.1 --traffic   # the docker compose lab's card",
                "  sudo ./cardnet drill --to 1.1.0 --traffic                 # a VM card (lab up --runtime vm): kernel 6.1 → 6.12",
                "  sudo ./cardnet drill --hitless --to 1.0.1 --traffic       # a pair (lab up --cards 2 --pair): no outage",
                "  sudo ./cardnet drill --hitless --to 1.0.1 --fail-back     # ... and card 0 the active again at the end",
                "",
                "Exit status: 0 committed, 4 rolled back, 1 refused or failed."})
final class DrillCommand implements Callable<Integer> {
    @Option(names = "--to", required = true, paramLabel = "VERSION|DIR",
            description = "The firmware to swap in: a shipped version (images/card-firmware/VERSION) or a directory.")
    String to;

    @picocli.CommandLine.Mixin
    CardCommand.Which card;

    @Option(names = "--watchdog", converter = Converters.DurationConverter.class,
            description = "How long the new firmware has to pass its health checks before the card rolls back"
                    + " (default: 30s; 180s for a VM card, which boots a kernel).")
    Duration watchdog;

    @Option(names = "--traffic", description = "Run traffic through the swap: a routed host→wire TCP stream, a host→card"
            + " TCP stream and a ping every 10 ms (needed for the outage and per-flow results).")
    boolean traffic;

    @Option(names = "--hitless", description = "On a failover pair (`lab up --cards 2 --pair`): patch the standby, switch"
            + " to it on purpose (sync first, then switch), patch the other; no reboot of the active, so no outage"
            + " beyond the switch. Compare with a plain drill's outage (a reboot: seconds).")
    boolean hitless;

    @Option(names = "--fail-back", description = "With --hitless: switch back to the card that was active at the start.")
    boolean failBack;

    @picocli.CommandLine.Mixin
    BenchCommand.ResultsOptions results;

    @Override
    public Integer call() throws Exception {
        Privileges.requireNetAdmin("cardnet drill");
        Path firmware = FirmwareCatalog.resolve(to);
        if (failBack && !hitless) {
            throw new IllegalArgumentException("--fail-back belongs to --hitless (a pair's drill)");
        }
        if (!card.compose()) {
            boolean pair = io.cardnet.lab.runtime.PairState.exists(card.lab.runRoot.resolve(card.lab.name));
            if (hitless && !pair) {
                throw new IllegalArgumentException("--hitless needs a failover pair: lab '" + card.lab.name + "' is none;"
                        + " start one with `cardnet lab up --cards 2 --pair`, or drill without --hitless (a reboot)");
            }
            if (pair && !hitless) {
                throw new IllegalArgumentException("lab '" + card.lab.name + "' is a failover pair: patch it with"
                        + " `cardnet drill --hitless --to " + to + "` (a plain drill's reboot would remake card 0's"
                        + " namespace, and with it the pair's wire identity and sync link)");
            }
        } else if (hitless) {
            throw new IllegalArgumentException("--hitless runs on a netns pair only; the compose lab has one card");
        }
        if (hitless) {
            Lab l = Lab.attach(card.lab.name, card.lab.runRoot, Output::progress);
            DrillReport report = new io.cardnet.lab.drill.HitlessDrill(l, new io.cardnet.lab.drill.HitlessDrill.Options(
                    firmware, failBack, traffic, watchdog != null ? watchdog : Duration.ofSeconds(60)), Output::progress).run();
            Path dir = results.newRunDir();
            Output.JSON.writeValue(dir.resolve("drill.json").toFile(), report);
            Files.writeString(dir.resolve("drill.md"), report.markdown());
            results.print(report, report.markdown(), dir, "{drill.json,drill.md}");
            return 0;
        }
        io.cardnet.lab.drill.DrillTarget target = card.compose()
                ? io.cardnet.lab.drill.ComposeTarget.attach(card.project, card.composeFile, Output::progress)
                : new io.cardnet.lab.drill.LabTarget(Lab.attach(card.lab.name, card.lab.runRoot, Output::progress));
        DrillReport report = new Drill(target, new Drill.Options(firmware,
                watchdog != null ? watchdog : target.defaultWatchdog(), traffic), Output::progress).run();
        Path dir = results.newRunDir();
        Output.JSON.writeValue(dir.resolve("drill.json").toFile(), report);
        Files.writeString(dir.resolve("drill.md"), report.markdown());
        results.print(report, report.markdown(), dir, "{drill.json,drill.md}");
        return report.committed() ? 0 : 4;
    }
}
