package io.cardnet.lab.cli;

import io.cardnet.lab.runtime.LabException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command tree: `cardnet lab|tool|sim|host-bridge|card-node`. */
@Command(name = "cardnet", mixinStandardHelpOptions = true, version = "cardnet 0.1.0",
        description = "cardnet emulates the \"ultimate TOE\" card: a PCI card whose firmware is Linux, an independent IP node the host reaches across the bus with plain IP packets at a 64K MTU, checksum-unnecessary. The host sees an ordinary interface, toe0.",
        subcommands = {LabCommand.class, LinkCommand.class, BenchCommand.class, DrillCommand.class, FailoverCommand.class, SoakCommand.class, CardCommand.class, ToolCommand.class, Components.Sim.class, Components.HostBridgeCmd.class,
                Components.CardNodeCmd.class, AotTraining.class, AotBuild.class, FailoverCommand.Monitor.class, CommandLine.HelpCommand.class},
        footer = {"", "Start here:", "  sudo ./cardnet lab up        # the lab; then follow what it prints",
                "  ./cardnet lab --help         # lab up/down/status/restart"})
public final class Commands {
    private Commands() {
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Commands());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof LabException || ex instanceof IllegalArgumentException
                    || ex instanceof java.io.IOException || ex instanceof io.cardnet.card.firmware.FirmwareException) {
                cmd.getErr().println("cardnet: " + ex.getMessage());
                return 1;
            }
            cmd.getErr().println("cardnet: unexpected failure: " + ex);
            ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl;
    }
}
