package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a failover pair out of a two-card lab (docs/architecture.md, "Failover pairs"): both cards' cables on one
 * bridge in the wire namespace with one wire identity, the host's wire identity on {@value PairPlan#HOST_DEVICE},
 * the NAT both cards apply, the sync link, a conntrackd per card and the monitor.
 */
final class PairWiring {
    static final String MONITOR = "pair-monitor";

    private PairWiring() {
    }

    /**
     * Card {@code c}'s cable on the pair's wire: its eth0 (the pair's MAC and wire address, up on card 0 only) and
     * its port on the wire's bridge, which carries the wire peer's address and routes.
     */
    static void cable(Lab lab, LabCard c) throws IOException {
        LabAddresses a = c.addresses();
        String wire = lab.names().wireNamespace();
        String ns = c.namespace();
        lab.progress("wiring card " + c.index() + "'s eth0 (" + a.cardWire() + ", MAC " + PairPlan.VIRTUAL_MAC
                + (c.index() == 0 ? ", active" : ", standby: down") + ") to the pair's wire bridge");
        Shell.ipIn(ns, "link", "add", LabNames.WIRE_DEVICE, "type", "veth", "peer", "name", c.wirePort(), "netns", wire);
        Shell.ipIn(ns, "link", "set", LabNames.WIRE_DEVICE, "address", PairPlan.VIRTUAL_MAC);
        Shell.ipIn(ns, "addr", "add", a.cardWire().toString(), "dev", LabNames.WIRE_DEVICE);
        // the card announces its wire identity (a gratuitous ARP) whenever its eth0 comes up: a takeover's announcement
        sysctl(ns, "net.ipv4.conf." + LabNames.WIRE_DEVICE + ".arp_notify=1");
        if (Shell.run(List.of("ip", "-n", wire, "link", "show", PairPlan.WIRE_BRIDGE), 10).exitCode() != 0) {
            Shell.ipIn(wire, "link", "add", PairPlan.WIRE_BRIDGE, "type", "bridge", "forward_delay", "0");
            Shell.ipIn(wire, "addr", "add", a.peerWire().toString(), "dev", PairPlan.WIRE_BRIDGE);
            Shell.ipIn(wire, "link", "set", PairPlan.WIRE_BRIDGE, "up");
        }
        Shell.ipIn(wire, "link", "set", c.wirePort(), "master", PairPlan.WIRE_BRIDGE);
        Shell.ipIn(wire, "link", "set", c.wirePort(), "up");
        if (c.index() == 0) {
            Shell.ipIn(ns, "link", "set", LabNames.WIRE_DEVICE, "up");
        }
        // the peer reaches both links and the host's wire identity through whichever card has the wire identity
        Shell.ipIn(wire, "route", "replace", c.addresses().linkSubnet(), "via", a.cardWire().ip());
        Shell.ipIn(wire, "route", "replace", PairPlan.HOST_NET, "via", a.cardWire().ip());
    }

    /**
     * Once both cards run: the host's wire identity and its route via card 0, each card's route back to it and its NAT,
     * the sync link, both conntrackd and the monitor. pair.json is written first, so `down` knows a pair was begun.
     */
    static void start(Lab lab) throws IOException {
        Path runDir = lab.runDir();
        PairState.initial().save(runDir);
        String host = lab.hostNamespace();
        lab.progress("the host's wire identity " + PairPlan.HOST_ROUTED + " (routed) and " + PairPlan.HOST_NATED
                + " (NATed to the wire identity) on " + PairPlan.HOST_DEVICE);
        // an empty bridge holds local addresses as a dummy device would (some kernels, this machine's, have no dummy driver)
        Shell.ipIn(host, "link", "add", PairPlan.HOST_DEVICE, "type", "bridge");
        Shell.ipIn(host, "addr", "add", PairPlan.HOST_ROUTED + "/32", "dev", PairPlan.HOST_DEVICE);
        Shell.ipIn(host, "addr", "add", PairPlan.HOST_NATED + "/32", "dev", PairPlan.HOST_DEVICE);
        Shell.ipIn(host, "link", "set", PairPlan.HOST_DEVICE, "up");
        PairSwitch.routeHostVia(lab, 0);

        Files.createDirectories(runDir.resolve("pair"));
        String wireIdentity = lab.card(0).addresses().cardWire().ip();
        Path nat = runDir.resolve("pair").resolve("nat.nft");
        Files.writeString(nat, """
                # the pair's NAT, beside the firmware's ruleset: the host's %s leaves as the wire identity %s
                table ip %s {
                    chain postrouting {
                        type nat hook postrouting priority srcnat; policy accept;
                        ip saddr %s oifname "%s" counter snat to %s
                    }
                }
                """.formatted(PairPlan.HOST_NATED, wireIdentity, PairPlan.NAT_TABLE, PairPlan.HOST_NATED,
                LabNames.WIRE_DEVICE, wireIdentity));
        lab.progress("sync link " + PairPlan.SYNC_DEVICE + " " + PairPlan.syncAddress(0) + " ⇄ " + PairPlan.syncAddress(1)
                + "; conntrackd (FTFW) on each card");
        String ns0 = lab.card(0).namespace();
        String ns1 = lab.card(1).namespace();
        Shell.ipIn(ns0, "link", "add", PairPlan.SYNC_DEVICE, "type", "veth", "peer", "name", PairPlan.SYNC_DEVICE,
                "netns", ns1);
        List<String> own = List.of(PairPlan.syncAddress(0), PairPlan.syncAddress(1), lab.card(0).cardAddress(),
                lab.card(1).cardAddress(), lab.card(0).hostAddress(), lab.card(1).hostAddress());
        for (int k = 0; k < 2; k++) {
            LabCard c = lab.card(k);
            Shell.ipIn(c.namespace(), "addr", "add", PairPlan.syncAddress(k) + "/30", "dev", PairPlan.SYNC_DEVICE);
            Shell.ipIn(c.namespace(), "link", "set", PairPlan.SYNC_DEVICE, "up");
            PairSwitch.routeCardToHost(lab, k);
            Shell.check(Shell.inNamespace(c.namespace(), List.of("nft", "-f", nat.toString())));
            // conntrackd does not carry TCP window tracking: the taking-over kernel must not judge a synced flow's
            // next segments out of window
            sysctl(c.namespace(), "net.netfilter.nf_conntrack_tcp_be_liberal=1");
            Conntrackd d = PairSwitch.conntrackd(lab, k);
            d.writeConfig(own);
            d.clearStaleLock();
            lab.startAux(Conntrackd.processKey(k), c.namespace(), d.command(), d.log().resolveSibling("conntrackd" + k
                    + ".out"));
        }
        awaitConntrackd(lab);
        // Raised priority, as keepalived's VRRP runs: on a busy machine a starved monitor would detect late. nice
        // execs, so the recorded pid is the JVM's.
        List<String> monitor = new java.util.ArrayList<>(List.of("nice", "-n", "-10"));
        monitor.addAll(Launcher.command(List.of(MONITOR, "--lab", lab.config().name(), "--run-dir",
                lab.config().runRoot().toString())));
        lab.startAux(MONITOR, host, monitor, runDir.resolve(MONITOR + ".log"));
        long deadline = System.nanoTime() + lab.config().healthTimeout().toNanos();
        while (PairState.load(runDir).monitorPid() == 0) {
            if (System.nanoTime() > deadline) {
                throw new LabException("the pair's monitor did not start within " + lab.config().healthTimeout().toSeconds()
                        + " s; see " + runDir.resolve(MONITOR + ".log"));
            }
            sleep(100);
        }
        lab.progress("pair: card 0 active, card 1 standby; the monitor (pid " + PairState.load(runDir).monitorPid()
                + ") watches card 0's link");
    }

    private static void awaitConntrackd(Lab lab) throws IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (int k = 0; k < 2; k++) {
            Conntrackd d = PairSwitch.conntrackd(lab, k);
            while (!d.answers()) {
                if (System.nanoTime() > deadline) {
                    throw new LabException("card " + k + "'s conntrackd did not answer within 10 s; see " + d.log()
                            + " and " + d.log().resolveSibling("conntrackd" + k + ".out"));
                }
                sleep(50);
            }
        }
    }

    /** What `down` removes besides namespaces when the host side is the caller's: the host's wire identity device. */
    static void removeHostIdentity() throws IOException {
        if (Shell.run(List.of("ip", "-d", "link", "show", PairPlan.HOST_DEVICE), 10).output()
                .contains("bridge")) {
            Shell.ip("link", "del", PairPlan.HOST_DEVICE);
        }
    }

    static void sysctl(String ns, String setting) throws IOException {
        Shell.check(Shell.inNamespace(ns, List.of("sysctl", "-qw", setting)));
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted");
        }
    }
}
