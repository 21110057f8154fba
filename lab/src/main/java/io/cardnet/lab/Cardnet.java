package io.cardnet.lab;

import io.cardnet.lab.cli.Commands;
import picocli.CommandLine;

/** Entry point of the {@code cardnet} command. */
public final class Cardnet {
    private Cardnet() {
    }

    public static void main(String[] args) {
        // a script's background job starts with SIGINT ignored: Ctrl-C / kill -INT must still take a lab down
        io.cardnet.netdev.Termination.honourAll();
        System.exit(Commands.commandLine().execute(args));
    }
}
