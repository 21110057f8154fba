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
        wire(lab.config().card(0));
    }

    /** Card {@code c}'s cable: its eth0 to the wire peer's port for it (eth0 for card 0, ethK for card K). */
    void wire(LabCard c) throws IOException {
        if (lab.config().cards().pair()) {
            PairWiring.cable(lab, c);
            return;
        }
        LabAddresses a = c.addresses();
        String wire = lab.names().wireNamespace();
        lab.progress("wiring " + (c.index() == 0 ? "the card's" : "card " + c.index() + "'s") + " eth0 to the wire peer's "
                + c.wirePort() + " (" + a.cardWire() + " ⇄ " + a.peerWire() + ")");
        Shell.ipIn(c.namespace(), "link", "add", LabNames.WIRE_DEVICE, "type", "veth", "peer", "name", c.wirePort(),
                "netns", wire);
        Shell.ipIn(c.namespace(), "addr", "add", a.cardWire().toString(), "dev", LabNames.WIRE_DEVICE);
        Shell.ipIn(c.namespace(), "link", "set", LabNames.WIRE_DEVICE, "up");
        Lab.addressWirePeer(a, wire, c.wirePort());
    }

    @Override
    public void install(String slot, Firmware installed) {
        // the slot's directory is what card-node boots
    }

    @Override
    public List<String> command(String slot) {
        return command(lab.config().card(0), slot);
    }

    /** card-node's command for card {@code c}, booting {@code slot} of the lab's firmware. */
    List<String> command(LabCard c, String slot) {
        List<String> args = new java.util.ArrayList<>(lab.cardNodeArgs(c,
                "unix:" + c.runDir().resolve("card.sock"),
                lab.config().sharedMemory() ? c.dmaDir().toString() : null,
                lab.state().firmware() == null ? null : lab.firmwareDir(slot).toString()));
        // The console's host key and data live in the card's run directory, so every boot of this card keeps them;
        // the lab's own key is trusted besides the firmware's, on every card.
        args.addAll(List.of("--console-dir", LabConsoleKeys.of(c.runDir()).cardState().toString(),
                "--console-authorized-keys", lab.consoleKeys().publicKey().toString()));
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
