package io.cardnet.lab;

import io.cardnet.lab.cli.Commands;
import picocli.CommandLine;

/** Entry point of the {@code cardnet} command. */
public final class Cardnet {
    private Cardnet() {
    }

    public static void main(String[] args) {
        System.exit(Commands.commandLine().execute(args));
    }
}
