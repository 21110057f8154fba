package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The host side's toeK devices, which the lab makes and removes so that host-bridge needs no capability: each is a
 * persistent TUN ({@code ip tuntap add ... user UID}) owned by the uid host-bridge runs as, with its MTU, address,
 * route to its card's wire and link up set here. host-bridge only attaches its queues; the kernel lets a persistent
 * TUN's owner do that, and everything it does later on its own file descriptors (detach and attach a queue at a
 * retrain, the carrier, the offloads), without CAP_NET_ADMIN (docs/security.md).
 *
 * <p>A device outlives host-bridge: a restarted host-bridge finds toeK with its address and routes (a pair's wire
 * route with its source address included) as the lab left them. Each device is labelled with its lab ({@code ip link
 * set ... alias "cardnet lab NAME"}), so {@code lab down} removes exactly this lab's devices, whatever became of
 * host-bridge, and never another lab's or one the lab did not make.
 */
final class HostTuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private HostTuns() {
    }

    /**
     * One toeK as the lab makes it.
     *
     * @param route its card's wire through it ({@code SUBNET via CARD}), or null when the route is someone else's (a
     *              pair's, which follows the active card)
     */
    record Spec(String device, String address, int mtu, boolean multiQueue, long owner, Route route, String label) {
        /** The {@code ip} commands (without {@code -n NS}) that make and configure it, in order. */
        List<List<String>> commands() {
            List<String> add = new ArrayList<>(List.of("tuntap", "add", "dev", device, "mode", "tun", "vnet_hdr"));
            if (multiQueue) {
                add.add("multi_queue");
            }
            add.addAll(List.of("user", Long.toString(owner)));
            List<List<String>> c = new ArrayList<>(List.of(add,
                    List.of("link", "set", "dev", device, "alias", label),
                    List.of("link", "set", "dev", device, "mtu", Integer.toString(mtu)),
                    List.of("addr", "add", address, "dev", device),
                    List.of("link", "set", "dev", device, "up")));
            if (route != null) {
                c.add(List.of("route", "replace", route.subnet(), "via", route.via(), "dev", device, "onlink"));
            }
            return c;
        }
    }

    /** A subnet reached through the card at {@code via}. */
    record Route(String subnet, String via) {
    }

    /** The alias that marks a device as lab {@code name}'s. */
    static String label(String labName) {
        return "cardnet lab " + labName;
    }

    /** The uid this process runs as: host-bridge, started by it, runs as the same. */
    static long ownUid() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    }

    /**
     * Makes {@code spec}'s device in {@code ns} (null: the caller's namespace). Refused, with nothing made, if a
     * device of that name is already there: it belongs to someone else (another lab in the same namespace).
     */
    static void create(String ns, Spec spec, Consumer<String> progress) throws IOException {
        if (Shell.run(prefixed(ns, List.of("link", "show", "dev", spec.device())), 10).ok()) {
            throw new LabException(spec.device() + " already exists in " + (ns == null ? "this namespace" : ns)
                    + " and is not this lab's: another lab's (see `ip -d link show " + spec.device()
                    + "`, its alias names the lab; take it down) or someone else's; or give this lab --isolated");
        }
        for (List<String> c : spec.commands()) {
            Shell.check(prefixed(ns, c));
        }
        progress.accept(spec.device() + ": a persistent TUN owned by uid " + spec.owner() + " (" + spec.address()
                + ", mtu " + spec.mtu() + (spec.multiQueue() ? ", multi-queue" : "") + "); host-bridge attaches to it");
    }

    /** Removes every device in {@code ns} labelled {@code label}; returns their names. */
    static List<String> removeAll(String ns, String label, Consumer<String> progress) throws IOException {
        Shell.Result r = Shell.run(prefixed(ns, List.of("-j", "link", "show")), 10);
        if (!r.ok()) {
            return List.of(); // a namespace already gone holds nothing
        }
        List<String> removed = labelled(r.output(), label);
        for (String device : removed) {
            Shell.check(prefixed(ns, List.of("link", "del", "dev", device)));
            progress.accept("removed " + device + (ns == null ? "" : " in " + ns));
        }
        return removed;
    }

    /** The names of the devices in {@code ip -j link show}'s output whose alias is {@code label}. */
    static List<String> labelled(String ipJson, String label) throws IOException {
        List<String> names = new ArrayList<>();
        for (JsonNode link : JSON.readTree(ipJson)) {
            if (label.equals(link.path("ifalias").asText(null))) {
                names.add(link.path("ifname").asText());
            }
        }
        return names;
    }

    private static List<String> prefixed(String ns, List<String> args) {
        List<String> c = new ArrayList<>(ns == null ? List.of("ip") : List.of("ip", "-n", ns));
        c.addAll(args);
        return c;
    }
}
