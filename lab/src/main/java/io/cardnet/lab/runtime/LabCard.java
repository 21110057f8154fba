package io.cardnet.lab.runtime;

import java.nio.file.Path;

/**
 * Where card {@code index} of a lab lives (docs/architecture.md, "Several cards"). Card 0 is the lab's card of
 * before, with exactly its addresses, names, files and ports; card K has its own namespace, link, DMA regions,
 * control socket and toeK, and shares the lab's one simulator process, host side and wire namespace.
 *
 * @param index       0..N-1
 * @param addresses   its link (toeK ⇄ host0) and wire (its eth0 ⇄ the wire peer's port) addresses
 * @param namespace   the card's namespace
 * @param hostDevice  toeK on the host side
 * @param wirePort    the wire peer's end of its cable, in the wire namespace
 * @param runDir      its sockets (host.sock, card.sock, control.sock), logs and console state: the lab's run
 *                    directory for card 0, RUN_DIR/cardK for card K
 * @param dmaDir      its DMA regions (tmpfs)
 * @param metrics     its /metrics ports: the simulator's and host-bridge's on the host side's loopback (card K:
 *                    card 0's + 10 × K), card-node's on its own addresses (the same port on every card)
 */
public record LabCard(int index, LabAddresses addresses, String namespace, String hostDevice, String wirePort,
                      Path runDir, Path dmaDir, LabConfig.MetricsPorts metrics) {

    static LabCard of(LabConfig config, int k) {
        LabNames names = new LabNames(config.name());
        LabConfig.MetricsPorts p = config.metricsPorts();
        LabAddresses a = config.addresses().forCard(k);
        if (config.cards().pair() && k == 1) {
            // a pair's standby has its own link but the active's wire identity (docs/architecture.md, "Failover pairs")
            a = new LabAddresses(a.hostLink(), a.cardLink(), config.addresses().cardWire(), config.addresses().peerWire());
        }
        return new LabCard(k, a, names.cardNamespace(k), LabNames.hostDevice(k),
                LabNames.wirePort(k), k == 0 ? config.runDir() : config.runDir().resolve("card" + k),
                k == 0 ? config.dmaDir() : Path.of(config.dmaDir() + "-card" + k),
                k == 0 ? p : new LabConfig.MetricsPorts(p.sim() + 10 * k, p.hostBridge() + 10 * k, p.card()));
    }

    /** The key of a component of this card in the lab's state: "card-node" for card 0, "card-node.K" for card K. */
    public String processKey(Component c) {
        return index == 0 ? c.command() : c.command() + "." + index;
    }

    public Path controlSocket() {
        return runDir.resolve("control.sock");
    }

    /** toeK's address (the host end of its link), without prefix. */
    public String hostAddress() {
        return addresses.hostLink().address().getHostAddress();
    }

    /** Its host0's address (the card end of its link), without prefix. */
    public String cardAddress() {
        return addresses.cardLink().address().getHostAddress();
    }
}
