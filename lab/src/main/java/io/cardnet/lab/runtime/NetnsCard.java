package io.cardnet.lab.runtime;

import io.cardnet.card.firmware.Firmware;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The card as a network namespace on the host's own kernel: card-node is a process in {@code cardnet-NAME-card},
 * whose eth0 is one end of a veth pair to the wire peer. A reboot deletes and recreates the namespace, so every
 * socket, route, conntrack entry and ruleset of the old firmware goes with it.
 */
final class NetnsCard implements CardRuntime {
    private final Lab lab;

    NetnsCard(Lab lab) {
        this.lab = lab;
    }

    /**
     * The card's eth0 and the wire peer's, a veth pair, with their addresses and the peer's route to the link.
     * Created inside the card's namespace with its peer placed straight into the wire's: the caller's namespace
     * never holds either end, even for a moment. A card reboot destroys the pair with the card's namespace, so
     * this runs again then (the peer's cable comes back, as after a real reboot).
     */
    @Override
    public void wire() throws IOException {
        LabAddresses a = lab.config().addresses();
        String card = lab.names().cardNamespace();
        String wire = lab.names().wireNamespace();
        lab.progress("wiring the card's eth0 to the wire peer (" + a.cardWire() + " ⇄ " + a.peerWire() + ")");
        Shell.ipIn(card, "link", "add", LabNames.WIRE_DEVICE, "type", "veth", "peer", "name", LabNames.WIRE_DEVICE,
                "netns", wire);
        Shell.ipIn(card, "addr", "add", a.cardWire().toString(), "dev", LabNames.WIRE_DEVICE);
        Shell.ipIn(card, "link", "set", LabNames.WIRE_DEVICE, "up");
        Lab.addressWirePeer(a, wire);
    }

    @Override
    public void install(String slot, Firmware installed) {
        // the slot's directory is what card-node boots
    }

    @Override
    public List<String> command(String slot) {
        List<String> args = new java.util.ArrayList<>(lab.cardNodeArgs(
                "unix:" + lab.runDir().resolve("card.sock"),
                lab.config().sharedMemory() ? lab.config().dmaDir().toString() : null,
                lab.state().firmware() == null ? null : lab.firmwareDir(slot).toString()));
        // The console's host key and data live in the run directory, so every boot of this lab's card keeps them;
        // the lab's own key is trusted besides the firmware's.
        LabConsoleKeys keys = lab.consoleKeys();
        args.addAll(List.of("--console-dir", keys.cardState().toString(),
                "--console-authorized-keys", keys.publicKey().toString()));
        return Launcher.command(Component.CARD_NODE, args);
    }

    @Override
    public void reset() throws IOException {
        String card = lab.names().cardNamespace();
        // The veth pair goes first, explicitly: a deleted namespace's devices are destroyed asynchronously, and
        // the wire's end would still be there when the new pair is made.
        Shell.run(List.of("ip", "-n", lab.names().wireNamespace(), "link", "del", LabNames.WIRE_DEVICE), 10);
        Shell.ip("netns", "del", card);
        Shell.ip("netns", "add", card);
        Shell.ipIn(card, "link", "set", "lo", "up");
        Lab.tuneTcpBuffers(card);
        wire();
    }

    @Override
    public ExecResult exec(List<String> argv, Duration timeout) throws IOException {
        return ExecResult.run(Shell.inNamespace(lab.names().cardNamespace(), argv), timeout);
    }

    @Override
    public Path console() {
        return lab.runDir().resolve(Component.CARD_NODE.command() + ".log");
    }

    @Override
    public String kernel() {
        return System.getProperty("os.version");
    }
}
