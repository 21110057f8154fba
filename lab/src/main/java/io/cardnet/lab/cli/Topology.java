package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabNames;

import java.util.Map;

/** The text a person reads after `lab up` and `lab status`: the picture, then what to try. */
final class Topology {
    private Topology() {
    }

    static String describe(Lab lab, double seconds) {
        var s = lab.state();
        var a = s.addresses();
        String hostNs = lab.hostNamespace();
        String run = hostNs == null ? "" : "sudo ip netns exec " + hostNs + " ";
        String hostWhere = hostNs == null ? "this namespace" : hostNs;
        StringBuilder b = new StringBuilder();
        b.append(String.format("%nlab '%s' is up in %.1f s (checksums %s, link %s, packets %s)%n%n", s.name(), seconds,
                s.csum(), lab.config().linkModel(), lab.config().sharedMemory() ? "in shared DMA memory" : "inside the bus frames"));
        b.append(readiness(s));
        b.append(String.format("  host (%s)%n", hostWhere));
        String bus = String.format("    %s %-18s ══ bus (pci-link-sim, %s/{host,card}.sock) ══╗", LabNames.HOST_DEVICE,
                a.get("host.toe0"), s.runDir());
        int corner = bus.length() - 1;
        b.append(bus).append('\n');
        String cardTitle;
        String cardLink;
        String cable;
        if (s.vm() != null) {
            var vm = s.vm();
            cardTitle = String.format("  card: a virtual machine (QEMU %s, kernel %s, booted in %.1f s)", vm.accel(),
                    lab.cardKernel(), vm.bootMillis() / 1000.0);
            cardLink = String.format("    %s %-18s ◀ PCI: virtio-serial port, ivshmem DMA windows ", LabNames.CARD_DEVICE,
                    a.get("card.host0"));
            cable = String.format("    %s  %-18s ── virtio-net, tap0 in %s ── wire peer (%s) eth0 %s%n", LabNames.WIRE_DEVICE,
                    a.get("card.eth0"), s.cardNamespace(), s.wireNamespace(), a.get("wire.eth0"))
                    + String.format("  accelerator: %s%n", vm.accelReason());
        } else {
            cardTitle = String.format("  card (%s)", s.cardNamespace());
            cardLink = String.format("    %s %-18s ◀", LabNames.CARD_DEVICE, a.get("card.host0"));
            cable = String.format("    %s  %-18s ──── veth ────  wire peer (%s) eth0 %s%n", LabNames.WIRE_DEVICE,
                    a.get("card.eth0"), s.wireNamespace(), a.get("wire.eth0"));
        }
        b.append(cardTitle).append(" ".repeat(Math.max(1, corner - cardTitle.length()))).append("║\n");
        b.append(cardLink).append("═".repeat(Math.max(1, corner - cardLink.length()))).append("╝\n");
        b.append(cable);
        for (var c : lab.config().allCards().subList(1, lab.config().cards().count())) {
            b.append(String.format("  card %d (%s): %s %s ══ bus ══ host0 %s; eth0 %s ── veth ── wire peer %s %s%n",
                    c.index(), c.namespace(), c.hostDevice(), c.addresses().hostLink(), c.addresses().cardLink(),
                    c.addresses().cardWire(), c.wirePort(), c.addresses().peerWire()));
        }
        if (lab.config().cards().upstream() != null) {
            b.append(String.format("  every card's link behind one switch, upstream %s%n", lab.config().cards().upstream()));
        }
        if (lab.config().cards().pair()) {
            b.append(String.format("  failover pair: card 0 active, card 1 standby (its eth0 down); both eth0 %s (MAC %s) on the"
                            + " wire's bridge %s;%n  the host's wire traffic leaves from %s (routed) and %s (NATed to %s) on %s;"
                            + " conntrackd syncs over %s%n", a.get("card.eth0"), io.cardnet.lab.runtime.PairPlan.VIRTUAL_MAC,
                    io.cardnet.lab.runtime.PairPlan.WIRE_BRIDGE, io.cardnet.lab.runtime.PairPlan.HOST_ROUTED,
                    io.cardnet.lab.runtime.PairPlan.HOST_NATED, ip(a.get("card.eth0")), io.cardnet.lab.runtime.PairPlan.HOST_DEVICE,
                    io.cardnet.lab.runtime.PairPlan.SYNC_DEVICE));
        }
        b.append('\n');
        String card = ip(a.get("card.host0"));
        String peer = ip(a.get("wire.eth0"));
        b.append("Try:\n");
        b.append(String.format("  %-60s # the card, across the bus%n", run + "ping -c 3 " + card));
        b.append(String.format("  %-60s # one 64K packet, no fragments%n", run + "ping -M do -s 65000 -c 3 " + card));
        b.append(String.format("  %-60s # the wire peer, routed by the card%n", run + "ping -c 3 " + peer));
        b.append(String.format("  %-60s # 1 GiB to the card's sink, SHA-256 checked%n",
                run + "./cardnet tool send --to " + card + ":9 --size 1G"));
        String name0 = s.name().equals("lab") ? "" : " --lab " + s.name();
        b.append(String.format("  %-60s # the card's own routes%n", "sudo ./cardnet card exec" + name0 + " -- ip route"));
        if (lab.config().cards().count() > 1) {
            var c1 = lab.config().card(1);
            b.append(String.format("  %-60s # card 1, across its own link%n", run + "ping -c 3 " + c1.cardAddress()));
            b.append(String.format("  %-60s # card 1's link and counters%n", "./cardnet link show --card 1" + name0.replace("--lab", "--name")));
        }
        if (lab.config().export() != null) {
            b.append(String.format("  %-60s # %s, served by the card (fetched over the bus once)%n",
                    "sudo ip netns exec " + s.wireNamespace() + " curl -sI http://" + ip(a.get("card.eth0")) + "/FILE",
                    lab.config().export()));
        }
        if (s.vm() != null) {
            b.append(String.format("  %-60s # its own kernel, and the bus as PCI devices%n",
                    "sudo ./cardnet card exec" + name0 + " -- sh -c 'uname -r; lspci'"));
            b.append(String.format("  %-60s # its serial console%n", "sudo ./cardnet card console" + name0));
        }
        b.append(String.format("  %-60s # bus counters%n", run + "curl -s " + s.metrics().get("sim") + " | grep ^cardnet_"));
        String name = s.name().equals("lab") ? "" : " --name " + s.name();
        b.append(String.format("  %-60s # link state and counters%n", "./cardnet lab status" + name));
        b.append(String.format("  %-60s # pace the bus like PCIe Gen3 x4%n", "sudo ./cardnet link set --model gen3x4" + name));
        b.append(String.format("  %-60s # watch the bus in Wireshark%n", "sudo ./cardnet link capture -w bus.pcapng" + name));
        if (lab.config().cards().pair()) {
            String lab0 = s.name().equals("lab") ? "" : " --lab " + s.name();
            b.append(String.format("  %-60s # fail the active under traffic; measure it%n",
                    "sudo ./cardnet failover --traffic --trigger kill" + lab0));
            b.append(String.format("  %-60s # the dead card back, as the standby%n",
                    "sudo ./cardnet lab restart card-node --card 0" + name));
            if (s.firmware() != null) {
                b.append(String.format("  %-60s # patch both cards (%s) without an outage%n",
                        "sudo ./cardnet drill --hitless --to 1.0.1 --traffic" + name, s.firmware().activeVersion()));
            }
        } else if (s.firmware() != null) {
            b.append(String.format("  %-60s # patch the card's firmware (%s) under traffic%n",
                    "sudo ./cardnet drill --to 1.0.1 --traffic" + name, s.firmware().activeVersion()));
        }
        b.append("Logs: ").append(s.runDir()).append("/*.log. Ctrl-C or `cardnet lab down` removes everything.\n");
        return b.toString();
    }

    static String status(Lab lab, Map<String, LabCommand.ProcStatus> procs, boolean carrier, JsonNode link) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("lab '%s'  checksums %s  host side %s%n", lab.config().name(), lab.state().csum(),
                lab.hostNamespace() == null ? "in the caller's namespace" : "in " + lab.hostNamespace()));
        var vm = lab.state().vm();
        if (vm != null) {
            b.append(String.format("  card: virtual machine (QEMU %s, %d vCPU, %d MiB), kernel %s, booted in %.1f s at lab up%n",
                    vm.accel(), vm.cpus(), vm.memoryMiB(), lab.cardKernel(), vm.bootMillis() / 1000.0));
        } else {
            b.append(String.format("  card: network namespace %s on this kernel (%s)%n", lab.state().cardNamespace(),
                    lab.cardKernel()));
        }
        procs.forEach((k, p) -> b.append(String.format("  %-12s pid %-8d %s%s%s%n", k, p.pid(),
                p.alive() ? "running" : "NOT RUNNING (see its log; `cardnet lab restart " + k + "`)",
                k.equals("card-node") && vm != null ? " (QEMU, the card VM; card-node runs inside it)" : "",
                p.alive() ? "  capabilities: " + (p.capabilities().isEmpty() ? "none" : String.join(",", p.capabilities()))
                        + " (" + p.why() + ")" : "")));
        b.append(String.format("  toe0 carrier %s%n", carrier ? "on" : "OFF"));
        String ready = readiness(lab.state());
        b.append(ready.isEmpty() ? "" : ready.substring(0, ready.length() - 1));
        var fw = lab.state().firmware();
        if (fw != null) {
            b.append(String.format("  firmware %s (slot %s; standby slot %s: %s)%n", fw.activeVersion(), fw.active(),
                    fw.standby(), fw.version(fw.standby()) == null ? "empty" : fw.version(fw.standby())));
        }
        if (link == null) {
            b.append("  link: the simulator does not answer\n");
            return b.toString();
        }
        b.append(String.format("  link %s since %s, epoch %d, max packet %d, features %s%n", link.path("state").asText(),
                link.path("since").asText(), link.path("epoch").asLong(), link.path("maxPacket").asInt(),
                link.path("features").asText()));
        link.path("traffic").properties().forEach(e -> b.append(String.format("  %s %,d frames %,d bytes%n",
                e.getKey(), e.getValue().path("frames").asLong(), e.getValue().path("bytes").asLong())));
        link.path("counters").properties().forEach(e -> b.append(String.format("  %-32s %,d%n", e.getKey(),
                e.getValue().asLong())));
        return b.toString();
    }

    /** `lab status`'s lines for each card of a lab of several (what {@code LabCommand.cardStatus} gathered). */
    /** A pair's roles and its last takeover, for `lab status`. */
    static String pair(io.cardnet.lab.runtime.PairState p) {
        StringBuilder b = new StringBuilder(String.format("failover pair: card %d active, %s; %d takeover(s)%n", p.active(),
                p.standby() >= 0 ? "card " + p.standby() + " standby" : "card " + (1 - p.active())
                        + " FAILED (no failover possible until `cardnet lab restart card-node --card " + (1 - p.active())
                        + "`)", p.generation()));
        var t = p.last();
        if (t != null) {
            b.append(String.format("  last: card %d → card %d (%s), takeover %d ms%n", t.from(), t.to(), t.reason(),
                    t.takeoverMillis()));
        }
        b.append(p.monitorPid() > 0 ? "  monitor pid " + p.monitorPid() + "\n" : "  no monitor running\n");
        return b.toString();
    }

    static String cards(java.util.List<Map<String, Object>> cards, String upstream) {
        StringBuilder b = new StringBuilder("  cards" + (upstream == null ? "" : " (behind one switch, upstream " + upstream + ")") + ":\n");
        for (Map<String, Object> c : cards) {
            JsonNode traffic = (JsonNode) c.get("traffic");
            b.append(String.format("    card %s  %-22s %s carrier %-3s link %-8s %s  h2c %,d bytes  c2h %,d bytes%n",
                    c.get("card"), c.get("namespace"), c.get("hostDevice"),
                    Boolean.TRUE.equals(c.get("carrier")) ? "on" : "OFF", c.getOrDefault("linkState", "?"),
                    Boolean.TRUE.equals(c.get("running")) ? "running" : "NOT RUNNING",
                    traffic == null ? 0 : traffic.path("h2c").path("bytes").asLong(),
                    traffic == null ? 0 : traffic.path("c2h").path("bytes").asLong()));
        }
        return b.toString();
    }

    /** Whether the lab is ready to be measured: its warm-up, and the JVM cache its processes started from. */
    private static String readiness(io.cardnet.lab.runtime.LabState s) {
        StringBuilder b = new StringBuilder();
        if (s.warmUp() != null) {
            b.append("  data path: ").append(s.warmUp().describe()).append('\n');
        }
        if (s.aot() != null) {
            b.append("  JVM cache: ").append(s.aot().state()).append(s.aot().cache() == null ? "" : " " + s.aot().cache())
                    .append(" (").append(s.aot().detail()).append(")\n");
        }
        return b.append(b.isEmpty() ? "" : "\n").toString();
    }

    private static String ip(String cidr) {
        return cidr == null ? "?" : cidr.substring(0, cidr.indexOf('/'));
    }
}
