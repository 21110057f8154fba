package io.cardnet.lab.cli;

import io.cardnet.lab.runtime.ComposeSecrets;
import io.cardnet.lab.runtime.LabAddresses;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** The compose lab's one-shot keys service: the console key pair and, for a firmware with ipsec:, the ESP keys. */
@Command(name = "lab-keys", mixinStandardHelpOptions = true,
        description = {"Make a lab's secrets where its containers find them: the console key pair (ssh-keygen, private"
                + " key 0600) with an ssh_config for the stock OpenSSH client, and, when --firmware has ipsec:, the ESP"
                + " tunnel's keys (0600). What exists and still fits is kept, so a second run changes nothing the card"
                + " or the wire peer already holds.",
                "compose.yaml's `keys` service runs it at every `docker compose up`, into the lab's volumes; a netns lab"
                        + " (`cardnet lab up`) makes the same things itself."},
        footer = {"", "Example (what compose.yaml runs, in the card's image):",
                "  cardnet tool lab-keys --console /console --ipsec /ipsec --firmware \"$CARD_FIRMWARE_DIR\" \\",
                "      --wire-subnet 198.18.1.0/24"})
final class LabKeysCmd implements Callable<Integer> {
    @Option(names = "--console", paramLabel = "DIR",
            description = "The console's directory: id_ed25519(.pub), ssh_config, and card/ (card-node's --console-dir).")
    Path console;

    @Option(names = "--ipsec", paramLabel = "DIR", description = "Where the ESP keys go (DIR/ipsec.keys).")
    Path ipsec;

    @Option(names = "--firmware", paramLabel = "DIR",
            description = "The card's firmware directory: ESP keys are made only if its firmware.yaml has ipsec:.")
    Path firmware;

    @Option(names = "--link-subnet", defaultValue = "198.18.0.0/30", paramLabel = "CIDR",
            description = "The bus link's subnet (host .1, card .2) (default: ${DEFAULT-VALUE}).")
    String linkSubnet;

    @Option(names = "--wire-subnet", defaultValue = "198.19.0.0/24", paramLabel = "CIDR",
            description = "The wire's subnet (peer .1, card .2), the tunnel's ends (default: ${DEFAULT-VALUE}).")
    String wireSubnet;

    @Override
    public Integer call() throws Exception {
        if (console == null && ipsec == null) {
            throw new IllegalArgumentException("nothing to make: give --console DIR, --ipsec DIR or both");
        }
        for (String line : ComposeSecrets.make(console, ipsec, firmware, LabAddresses.of(linkSubnet, wireSubnet))) {
            System.out.println("cardnet: " + line);
        }
        return 0;
    }
}
