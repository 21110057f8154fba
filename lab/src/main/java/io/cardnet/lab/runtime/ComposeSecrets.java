package io.cardnet.lab.runtime;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.card.ipsec.TunnelKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The compose lab's secrets, made by its one-shot {@code keys} service ({@code cardnet tool lab-keys}) into named
 * volumes before the card starts, as {@code cardnet lab up} makes them in a netns lab's run directory. Nothing secret
 * is in an image: a volume is made with the lab and removed by {@code docker compose down -v}.
 *
 * <pre>
 *   CONSOLE/id_ed25519, .pub    the lab's console key pair (ssh-keygen, 0600), the .pub trusted by the card
 *   CONSOLE/card/               card-node's console state: its host key survives a card restart or firmware swap
 *   CONSOLE/ssh_config          stock OpenSSH's way in from the host container (`ssh -F CONSOLE/ssh_config card`)
 *   IPSEC/ipsec.keys            the ESP tunnel's SAs (0600) when the card's firmware has ipsec:, read by card-node
 *                               and by the wire's esp-peer; absent otherwise (esp-peer then stays idle)
 * </pre>
 *
 * What exists and still fits is kept, so a second {@code up}, or a restarted card or esp-peer, finds the keys the
 * other end holds: the console key pair lives as long as the lab, like a netns lab's; the ESP keys too (a netns lab
 * makes new ones at each card boot, which it can because it starts both ends itself), and new ones are made when the
 * firmware asks for another algorithm.
 */
public final class ComposeSecrets {
    public static final String HOST = "card";
    public static final String KEYS_FILE = "ipsec.keys";

    private ComposeSecrets() {
    }

    /** Makes what is missing; returns one line per thing done, for the service's log. */
    public static List<String> make(Path console, Path ipsec, Path firmwareDir, LabAddresses a) throws IOException {
        List<String> done = new ArrayList<>();
        if (console != null) {
            LabConsoleKeys keys = new LabConsoleKeys(console);
            boolean had = Files.exists(keys.privateKey());
            keys.ensureKeyPair("compose");
            keys.writeSshConfig(HOST, a.cardLink().ip());
            done.add((had ? "kept" : "made") + " the console key pair " + keys.privateKey() + " (0600); "
                    + keys.sshConfig() + " logs in from the host container: ssh -F " + keys.sshConfig() + " " + HOST);
        }
        if (ipsec != null) {
            done.add(tunnelKeys(ipsec.resolve(KEYS_FILE), firmware(firmwareDir), a));
        }
        return done;
    }

    private static String tunnelKeys(Path file, Firmware f, LabAddresses a) throws IOException {
        if (f == null || f.ipsec() == null) {
            Files.deleteIfExists(file);
            return "no ESP keys: the card's firmware has no ipsec:";
        }
        if (Files.exists(file)) {
            try {
                TunnelKeys old = TunnelKeys.read(file);
                if (old.esp() == f.ipsec().esp() && old.cardOuter().equals(a.cardWire().ip())
                        && old.peerOuter().equals(a.peerWire().ip())) {
                    return "kept the ESP keys in " + file + " (" + old.esp().id() + "): the card and the peer hold them";
                }
            } catch (IOException unreadable) {
                // made anew below
            }
        }
        TunnelKeys keys = WirePeerEsp.freshKeys(f, a);
        keys.write(file);
        return "made ESP keys for firmware " + f.version() + " in " + file + " (0600): " + keys.esp().id() + " between "
                + keys.cardOuter() + " and " + keys.peerOuter() + " for " + keys.cardPrefix() + " ⇄ " + keys.peerPrefix();
    }

    private static Firmware firmware(Path dir) throws IOException {
        if (dir == null) {
            return null;
        }
        try {
            // only its ipsec: matters here; card-node checks the ruleset when it boots
            return new FirmwareLoader(ruleset -> { }).read(dir);
        } catch (FirmwareException e) {
            throw new LabException("the firmware in " + dir + " is refused: " + e.getMessage());
        }
    }
}
