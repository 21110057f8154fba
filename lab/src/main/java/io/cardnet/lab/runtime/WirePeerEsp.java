package io.cardnet.lab.runtime;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.card.ipsec.TunnelKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;

/**
 * The wire peer's side of a card firmware's ESP tunnel ({@code ipsec:} in firmware.yaml). Each time the card boots
 * such a firmware the lab makes fresh keys (RUN_DIR/ipsec.keys, 0600: no key is ever shipped or reused), hands the
 * file to card-node, and runs the peer's end ({@code cardnet tool esp-peer}) in the wire's namespace. Before the
 * card reboots, the peer's end stops, so a firmware without ipsec finds the wire as the lab first made it.
 */
final class WirePeerEsp {
    /** Its process's key in lab.json, beside the components. */
    static final String PROCESS = "esp-peer";
    private static final SecureRandom RANDOM = new SecureRandom();

    private WirePeerEsp() {
    }

    static Path keysFile(Path runDir) {
        return runDir.resolve("ipsec.keys");
    }

    /** Before card-node boots {@code slot}: keys and the peer's end if its firmware has ipsec. */
    static void beforeBoot(Lab lab, String slot) throws IOException {
        if (lab.state().firmware() == null) {
            return;
        }
        Firmware f;
        try {
            // already checked when it was installed; only its ipsec: matters here
            f = new FirmwareLoader(ruleset -> { }).read(lab.firmwareDir(slot));
        } catch (FirmwareException e) {
            throw new LabException("the firmware in slot " + slot + " is refused: " + e.getMessage());
        }
        if (f.ipsec() == null) {
            return;
        }
        TunnelKeys keys = freshKeys(f, lab.config().addresses());
        keys.write(keysFile(lab.runDir()));
        Path log = lab.runDir().resolve(PROCESS + ".log");
        List<String> command = Launcher.command(List.of("tool", "esp-peer", "--keys", keysFile(lab.runDir()).toString()));
        String ns = lab.names().wireNamespace();
        Process p = Launcher.start(ns, command, log);
        lab.updateState(lab.state().withProcess(PROCESS, LabState.Proc.of(p, ns, log.toString(), command)));
        awaitReady(p, log);
        lab.progress("ESP tunnel: " + keys.esp().id() + " between " + keys.cardOuter() + " and " + keys.peerOuter()
                + " for " + keys.cardPrefix() + " ⇄ " + keys.peerPrefix() + "; the wire peer's end runs (pid " + p.pid()
                + "), fresh keys in " + keysFile(lab.runDir()));
    }

    /** New SAs for firmware {@code f}'s tunnel between the card's and the peer's wire addresses (f has ipsec:). */
    static TunnelKeys freshKeys(Firmware f, LabAddresses a) {
        return TunnelKeys.generate(f.ipsec().esp(), a.cardWire().ip(), a.peerWire().ip(), a.linkSubnet(),
                a.wireSubnet(), RANDOM);
    }

    /** The peer's end has its esp0 and route, or the reason it died. */
    private static void awaitReady(Process p, Path log) throws IOException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains("esp-peer ready")) {
                return;
            }
            if (!p.isAlive()) {
                throw new LabException("the wire peer's ESP end (pid " + p.pid() + ") exited:\n" + Processes.tail(log, 15));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LabException("interrupted");
            }
        }
        throw new LabException("the wire peer's ESP end did not start within 30 s; see " + log);
    }

    /** Stops the peer's end (its esp0 and its route go with it) and forgets this boot's keys. */
    static void stop(Lab lab) throws IOException {
        LabState.Proc p = lab.state().processes().get(PROCESS);
        if (p != null) {
            Processes.stop(p, lab::progress);
            lab.updateState(lab.state().withProcess(PROCESS, null));
        }
        Files.deleteIfExists(keysFile(lab.runDir()));
    }
}
