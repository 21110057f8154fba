package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.link.port.EndpointAddress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The embedded netns lab: one host, one card, one wire peer.
 *
 * <pre>
 *  host side (caller's ns, or cardnet-NAME-host)     card (cardnet-NAME-card)          wire (cardnet-NAME-wire)
 *  toe0 198.18.0.1/30 ◀─ host-bridge ─UDS─ sim ─UDS─ card-node ─▶ host0 198.18.0.2/30
 *                                                                  eth0 198.19.0.2/24 ──veth── eth0 198.19.0.1/24
 * </pre>
 *
 * {@link #up} creates it and returns once the link has trained; {@link #down} removes every namespace,
 * interface, socket and process it made, by name and by pid, even for a lab that half came up.
 */
public final class Lab implements AutoCloseable {
    private final LabConfig config;
    private final LabNames names;
    private final Path runDir;
    private final Consumer<String> progress;
    private final CardRuntime card;
    private LabState state;

    private Lab(LabConfig config, LabState state, Consumer<String> progress) {
        this.config = config;
        this.names = new LabNames(config.name());
        this.runDir = config.runDir();
        this.state = state;
        this.progress = progress;
        this.card = config.runtime() == LabRuntime.VM ? new VmCard(this) : new NetnsCard(this);
    }

    // ---------------------------------------------------------------- up

    public static Lab up(LabConfig config, Consumer<String> progress) throws IOException {
        Privileges.requireNetAdmin("cardnet lab up");
        if (config.runtime() == LabRuntime.VM) {
            VmCard.requireHostTools();
        }
        io.cardnet.card.firmware.Firmware firmware = null;
        if (config.firmware() != null) {
            // Refused before anything is created.
            try {
                firmware = io.cardnet.card.firmware.FirmwareLoader.load(config.firmware());
            } catch (io.cardnet.card.firmware.FirmwareException e) {
                throw new LabException("firmware refused: " + e.getMessage());
            }
        }
        if (firmware != null && firmware.ipsec() != null && config.cards().count() > 1) {
            throw new LabException("firmware " + firmware.version() + " runs an ESP tunnel (ipsec:), which one card of a"
                    + " lab holds for now; boot it with --cards 1, or pick another firmware for --cards "
                    + config.cards().count());
        }
        if (config.cards().pair()) {
            for (String tool : List.of("conntrackd", "nft")) {
                if (Shell.run(List.of("sh", "-c", "command -v " + tool), 10).exitCode() != 0) {
                    throw new LabException("--pair needs " + tool + " on this machine (Debian: apt-get install "
                            + (tool.equals("nft") ? "nftables" : tool) + "); nothing was created");
                }
            }
        }
        Path runDir = config.runDir();
        if (Files.exists(LabState.file(runDir))) {
            LabState old = LabState.load(runDir);
            if (Processes.anyAlive(old)) {
                throw new LabException("lab '" + config.name() + "' is already up (state in " + runDir
                        + "); `cardnet lab down --name " + config.name() + "` first, or pick another --name");
            }
            progress.accept("removing what is left of an earlier lab '" + config.name() + "'");
            new Lab(config, old, progress).down();
        }
        // Before anything is created: the first lab of a new jar trains the cache its JVMs start from.
        AotCache.Status aot = AotCacheBuilder.ensure(progress);
        Lab lab = new Lab(config, null, progress);
        try {
            lab.create(firmware, aot);
            return lab;
        } catch (IOException | RuntimeException e) {
            progress.accept("lab up failed; removing what was created");
            lab.down();
            throw e;
        }
    }

    private void create(io.cardnet.card.firmware.Firmware firmware, AotCache.Status aot) throws IOException {
        Files.createDirectories(runDir.getParent());
        Files.createDirectories(runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        LabAddresses a = config.addresses();
        String hostNs = config.isolated() ? names.hostNamespace() : null;
        Map<String, String> addresses = new LinkedHashMap<>();
        addresses.put("host.toe0", a.hostLink().toString());
        addresses.put("card.host0", a.cardLink().toString());
        addresses.put("card.eth0", a.cardWire().toString());
        addresses.put("wire.eth0", a.peerWire().toString());
        Map<String, String> metrics = new LinkedHashMap<>();
        metrics.put("sim", "http://127.0.0.1:" + config.metricsPorts().sim() + "/metrics");
        metrics.put("host-bridge", "http://127.0.0.1:" + config.metricsPorts().hostBridge() + "/metrics");
        metrics.put("card-node", "http://" + a.cardLink().ip() + ":" + config.metricsPorts().card() + "/metrics");
        for (LabCard c : extraCards()) {
            String card = "card" + c.index();
            addresses.put("host." + c.hostDevice(), c.addresses().hostLink().toString());
            addresses.put(card + ".host0", c.addresses().cardLink().toString());
            addresses.put(card + ".eth0", c.addresses().cardWire().toString());
            addresses.put("wire." + c.wirePort(), c.addresses().peerWire().toString());
            metrics.put("sim." + card, "http://127.0.0.1:" + c.metrics().sim() + "/metrics");
            metrics.put("host-bridge." + card, "http://127.0.0.1:" + c.metrics().hostBridge() + "/metrics");
            metrics.put("card-node." + card, "http://" + c.cardAddress() + ":" + c.metrics().card() + "/metrics");
        }
        List<String> namespaces = new ArrayList<>();
        if (hostNs != null) {
            namespaces.add(hostNs);
        }
        namespaces.add(names.cardNamespace());
        extraCards().forEach(c -> namespaces.add(c.namespace()));
        namespaces.add(names.wireNamespace());
        LabState.VmState vm = config.runtime() == LabRuntime.VM ? new LabState.VmState(null, null, config.vm().cpus(),
                config.vm().memoryMiB(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), -1) : null;
        state = new LabState(config.name(), config.isolated(), config.csum().name().toLowerCase(), runDir.toString(),
                namespaces, hostNs, names.cardNamespace(), names.wireNamespace(), new TreeMap<>(), addresses, metrics,
                Instant.now().toString(), null, config.runtime().id(), vm, aot, null, config.cards().count(),
                config.cards().upstream());
        // Saved before anything is created, so a failure at any step leaves a record `down` can follow.
        state.save();

        progress.accept("creating namespaces " + String.join(", ", namespaces));
        for (String ns : namespaces) {
            Shell.ip("netns", "add", ns);
            Shell.ipIn(ns, "link", "set", "lo", "up");
            tuneTcpBuffers(ns);
        }
        card.wire();
        for (LabCard c : extraCards()) {
            Files.createDirectories(c.runDir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            ((NetnsCard) card).wire(c);
        }
        if (firmware != null) {
            installFirmware("a", firmware);
        } else if (config.runtime() == LabRuntime.VM) {
            throw new LabException("a VM card boots a firmware: give --firmware VERSION|DIR (images/card-firmware/)");
        }
        card.prepare();
        makeConsoleKey();
        makeHostDevices();

        long cardStarted = 0;
        for (Component c : Component.values()) {
            if (c == Component.CARD_NODE) {
                cardStarted = System.nanoTime();
            }
            start(c);
            if (c != Component.SIM) {
                for (LabCard extra : extraCards()) {
                    startExtra(c, extra);
                }
            }
        }
        awaitLinkUp(config.healthTimeout());
        for (LabCard extra : extraCards()) {
            awaitExtraLinkUp(extra, config.healthTimeout());
        }
        if (state.vm() != null) {
            long boot = (System.nanoTime() - cardStarted) / 1_000_000;
            state = state.withVm(state.vm().withBootMillis(boot));
            state.save();
            progress.accept(String.format("the card VM booted in %.1f s (QEMU start → link trained, %s)", boot / 1000.0,
                    state.vm().accel()));
        }
        progress.accept("link trained; " + LabNames.HOST_DEVICE + " has carrier");
        for (LabCard c : config.allCards()) {
            awaitCardServices(c, config.healthTimeout());
        }
        if (config.cards().pair()) {
            PairWiring.start(this);
        }
        checkAotCache();
        consoleKeys().writeKnownHosts(cardAddress());
    }

    /**
     * Every card's toeK, made here rather than by host-bridge, which then attaches to it with no capability
     * ({@link HostTuns}). A pair's wire route is the pair's ({@link PairSwitch}): through the active's toe, with the
     * host's wire identity as its source, so no toe gets one of its own.
     */
    private void makeHostDevices() throws IOException {
        long owner = HostTuns.ownUid();
        // a lab of this name that crashed with its run directory gone still labelled its toes: they are ours to remove
        HostTuns.removeAll(state.hostNamespace(), HostTuns.label(config.name()), progress);
        for (LabCard c : config.allCards()) {
            HostTuns.Route route = config.cards().pair() ? null
                    : new HostTuns.Route(c.addresses().wireSubnet(), c.addresses().cardLink().ip());
            HostTuns.create(state.hostNamespace(), new HostTuns.Spec(c.hostDevice(), c.addresses().hostLink().toString(),
                    io.cardnet.link.port.TunEndConfig.MTU_64K, endQueues() > 1, owner, route,
                    HostTuns.label(config.name())), progress);
        }
    }

    /**
     * The lab's console key pair (ssh-keygen), and a VM card's host key; without them the card's console still runs,
     * trusting only the firmware's keys, and the lab says so instead of failing.
     */
    private void makeConsoleKey() {
        try {
            consoleKeys().ensureKeyPair(config.name());
            if (config.runtime() == LabRuntime.VM) {
                // the guest's card-node cannot keep a host key in the run directory: the lab makes it, per lab
                consoleKeys().ensureHostKey(config.name());
            }
            progress.accept("console key " + consoleKeys().privateKey() + " (ssh -i it root@" + cardAddress() + ")");
        } catch (IOException e) {
            progress.accept("no console key for this lab (" + e.getMessage() + "); the card's console trusts only the"
                    + " firmware's authorized_keys. Install openssh-client for `cardnet card console`.");
        }
    }

    /** The lab's side of the card's SSH console: its key pair, known_hosts and the card's console state. */
    public LabConsoleKeys consoleKeys() {
        return LabConsoleKeys.of(runDir);
    }

    /**
     * A JVM that cannot use its cache runs on without it and says why in its log ({@code [error][aot]}): the lab
     * then says so too, instead of silently starting cold.
     */
    private void checkAotCache() throws IOException {
        if (state.aot() == null || !"used".equals(state.aot().state())) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (Component c : Component.values()) {
            LabState.Proc p = state.processes().get(c.command());
            if (p != null && String.join(" ", p.command()).contains("-XX:AOTCache=")) {
                AotCache.complaints(Path.of(p.log())).forEach(line -> problems.add(c.command() + ": " + line));
            }
        }
        if (!problems.isEmpty()) {
            progress.accept("a component's JVM could not use its cache (it runs, only colder):\n  "
                    + String.join("\n  ", problems));
            state = state.withAot(new AotCache.Status("refused", state.aot().cache(), String.join("; ", problems)));
            state.save();
        }
    }

    /**
     * Warms the data path with real packets until it runs at its steady rate ({@link WarmUp}), so the lab's first
     * measurement is not the JIT's; records what it did ({@code skip}: only that it was skipped). A VM card gets a
     * short one: under TCG its speed is the emulator's, which no warm-up changes.
     */
    public WarmUp.Result warmUp(boolean skip) throws IOException {
        WarmUp.Result r;
        if (skip) {
            r = WarmUp.Result.skipped();
        } else {
            progress.accept(config.runtime() == LabRuntime.VM
                    ? "warming the host side's data path (a VM card: briefly, its emulated CPU is the limit)"
                    : "warming the data path: 64K packets both ways through the card's echo (port 7), small ones beside them");
            r = WarmUp.run(this, config.runtime() == LabRuntime.VM ? WarmUp.Settings.VM : WarmUp.Settings.DEFAULT,
                    progress);
        }
        state = state.withWarmUp(r);
        state.save();
        progress.accept(r.describe());
        return r;
    }

    /** The wire peer's end of the cable: its address and its route back to the link through the card. */
    static void addressWirePeer(LabAddresses a, String wireNs, String port) throws IOException {
        Shell.ipIn(wireNs, "addr", "add", a.peerWire().toString(), "dev", port);
        Shell.ipIn(wireNs, "link", "set", port, "up");
        Shell.ipIn(wireNs, "route", "add", a.linkSubnet(), "via", a.cardWire().ip());
    }

    /**
     * Copies a firmware (already checked) into a slot (RUN_DIR/firmware/SLOT/VERSION) and records it; the first slot
     * installed is the active one. Returns the firmware as installed: the copy, which editing images/ never changes.
     */
    public Firmware installFirmware(String slot, Firmware f)
            throws IOException {
        Path slotDir = runDir.resolve("firmware").resolve(slot);
        Processes.deleteTree(slotDir);
        Path target = slotDir.resolve(f.version());
        try (var files = Files.walk(f.directory())) {
            for (Path p : files.toList()) {
                Path to = target.resolve(f.directory().relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        LabState.FirmwareSlots slots = state.firmware() == null ? new LabState.FirmwareSlots(slot, null, null)
                : state.firmware();
        state = state.withFirmware(slots.with(slot, f.version()));
        state.save();
        Firmware installed = f.relocated(target);
        card.install(slot, installed);
        progress.accept("firmware " + f.version() + " installed in slot " + slot);
        return installed;
    }

    /** Where a slot's firmware files are. */
    public Path firmwareDir(String slot) {
        return runDir.resolve("firmware").resolve(slot).resolve(state.firmware().version(slot));
    }

    /**
     * Reboots the card into a slot's firmware: the card stops (card-node, or the whole VM), whatever held its
     * state is made anew (the netns card's namespace, and with it every socket, route, conntrack entry and
     * ruleset of the old firmware; a VM card is a new QEMU), and the card boots that slot. The host side and the
     * bus keep running: toe0 loses its carrier until the new card trains.
     */
    public void rebootCard(String slot) throws IOException {
        LabState.Proc p = state.processes().get(Component.CARD_NODE.command());
        if (p != null) {
            Processes.stop(p, progress);
        }
        WirePeerEsp.stop(this);
        card.reset();
        state = state.withFirmware(state.firmware().activate(slot));
        state.save();
        start(Component.CARD_NODE);
        progress.accept("card rebooting into firmware " + state.firmware().activeVersion() + " (slot " + slot + ")");
    }

    /**
     * A 64K-MTU link with a 256-deep ring holds 16 MiB in flight; the default 4 MiB send-buffer ceiling would
     * starve it (a paced Gen3 x1 link measured 6.6 instead of 7.0 Gb/s). Only in namespaces the lab created:
     * the caller's own namespace is never changed. /proc/sys/net belongs to the writing thread's namespace.
     */
    public static void tuneTcpBuffers(String ns) throws IOException {
        try {
            io.cardnet.netdev.NetNamespace.call(ns, () -> {
                Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_wmem"), "4096 16384 33554432\n");
                Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_rmem"), "4096 131072 33554432\n");
                return null;
            });
        } catch (Exception e) {
            throw new IOException("cannot size the TCP buffers in " + ns + ": " + e.getMessage(), e);
        }
    }

    private List<String> args(Component c) {
        LabAddresses a = config.addresses();
        String hb = config.liveness().interval().toMillis() + "ms";
        String misses = Integer.toString(config.liveness().misses());
        String csum = config.csum().name().toLowerCase();
        return switch (c) {
            case SIM -> {
                List<String> args = new ArrayList<>(List.of(
                        "--host-port", "unix:" + runDir.resolve("host.sock"),
                        "--card-port", "unix:" + runDir.resolve("card.sock"),
                        "--control", runDir.resolve("control.sock").toString(),
                        "--metrics", "127.0.0.1:" + config.metricsPorts().sim(),
                        "--heartbeat", hb, "--heartbeat-misses", misses,
                        "--model", config.linkModel(),
                        "--queues", Integer.toString(endQueues())));
                args.addAll(dma());
                for (LabCard extra : extraCards()) {
                    args.addAll(List.of("--extra-card", "host=unix:" + extra.runDir().resolve("host.sock")
                            + ",card=unix:" + extra.runDir().resolve("card.sock")
                            + ",control=" + extra.controlSocket()
                            + (config.sharedMemory() ? ",dma=" + extra.dmaDir() : "")
                            + ",metrics=127.0.0.1:" + extra.metrics().sim()));
                }
                if (config.cards().upstream() != null) {
                    args.addAll(List.of("--upstream", config.cards().upstream()));
                }
                if (config.corruptEvery() > 0) {
                    args.addAll(List.of("--test-corrupt-tcp-csum-to-host", Integer.toString(config.corruptEvery())));
                }
                yield args;
            }
            case CARD_NODE -> throw new IllegalStateException("the card's command comes from its runtime");
            case HOST_BRIDGE -> {
                List<String> args = hostBridgeArgs(config.card(0));
                if (config.export() != null) {
                    // Served on toe0's address to the card's address only: the card's httpd is its one client.
                    args.addAll(List.of("--export", config.export().toString(),
                            "--export-port", Integer.toString(io.cardnet.hostbridge.export.ExportConfig.DEFAULT_PORT),
                            "--export-client", a.cardLink().ip()));
                }
                yield args;
            }
        };
    }

    /**
     * host-bridge's arguments for card {@code c}: its toeK, which the lab made with its link's address and route
     * ({@link #makeHostDevices}), to attach to.
     */
    private List<String> hostBridgeArgs(LabCard c) {
        List<String> o = endOptions(c.dmaDir());
        o = concat(o,
                "--bus", "unix:" + c.runDir().resolve("host.sock"),
                "--device", c.hostDevice(),
                "--attach",
                "--address", c.addresses().hostLink().toString());
        return concat(o,
                "--csum", config.csum().name().toLowerCase(),
                "--metrics", "127.0.0.1:" + c.metrics().hostBridge(),
                "--heartbeat", config.liveness().interval().toMillis() + "ms",
                "--heartbeat-misses", Integer.toString(config.liveness().misses()));
    }

    /**
     * card-node's arguments wherever it runs, for card {@code c}: {@code bus} is how it reaches the simulator,
     * {@code dma} where it finds the DMA regions (null: packets in frames), {@code firmwareDir} what it boots (null:
     * its defaults).
     */
    List<String> cardNodeArgs(LabCard c, String bus, String dma, String firmwareDir) {
        List<String> args = new ArrayList<>();
        if (dma != null) {
            args.addAll(List.of("--dma", dma));
        }
        args.addAll(List.of("--offload", config.offload() ? "on" : "off", "--queues", Integer.toString(endQueues())));
        if (!config.busyPoll().isZero()) {
            args.addAll(List.of("--busy-poll", Long.toString(config.busyPoll().toNanos() / 1000)));
        }
        if (firmwareDir != null) {
            args.addAll(List.of("--firmware", firmwareDir));
        }
        if (config.export() != null) {
            // The lab's export turns the card's web server on, on the wire address, fed from toe0's address.
            args.addAll(List.of("--httpd-origin", "http://" + config.addresses().hostLink().ip() + ":"
                    + io.cardnet.hostbridge.export.ExportConfig.DEFAULT_PORT));
            if (config.runtime() == LabRuntime.NETNS) {
                // eth0 is addressed before card-node starts here; a VM guest's may not be yet, so it listens on all.
                args.addAll(List.of("--httpd-bind", config.addresses().cardWire().ip(),
                        "--httpd-cache", config.httpdCacheDir().toString()));
            }
        }
        if (Files.exists(WirePeerEsp.keysFile(runDir))) {
            // a VM guest finds this boot's keys where cardnet-init copied them from fw_cfg
            args.addAll(List.of("--ipsec-keys", config.runtime() == LabRuntime.VM ? VmCard.GUEST_IPSEC_KEYS
                    : WirePeerEsp.keysFile(runDir).toString()));
        }
        args.addAll(config.relay().cardNodeArgs());
        args.addAll(List.of("--bus", bus,
                "--device", LabNames.CARD_DEVICE,
                "--address", c.addresses().cardLink().toString(),
                "--csum", config.csum().name().toLowerCase(),
                "--metrics-port", Integer.toString(c.metrics().card()),
                "--heartbeat", config.liveness().interval().toMillis() + "ms",
                "--heartbeat-misses", Integer.toString(config.liveness().misses())));
        return args;
    }

    private List<String> dma() {
        return dma(config.dmaDir());
    }

    private List<String> dma(Path dir) {
        return config.sharedMemory() ? List.of("--dma", dir.toString()) : List.of();
    }

    /** Options both ends share: where the DMA regions are, whether the TUNs offload, their queue pairs, polling. */
    private List<String> endOptions(Path dmaDir) {
        List<String> o = concat(dma(dmaDir), "--offload", config.offload() ? "on" : "off", "--queues", Integer.toString(endQueues()));
        return config.busyPoll().isZero() ? o
                : concat(o, "--busy-poll", Long.toString(config.busyPoll().toNanos() / 1000));
    }

    /** The relay setting a recorded card-node command line was started with. */
    private static LabConfig.Relay relayOf(LabState.Proc card) {
        if (card == null) {
            return LabConfig.Relay.FIRMWARE;
        }
        return new LabConfig.Relay(optionValue(card.command(), "--relay").map("on"::equals).orElse(null),
                optionValue(card.command(), "--relay-max-connections").map(Integer::parseInt)
                        .orElse(LabConfig.Relay.FIRMWARE.maxConnections()),
                optionValue(card.command(), "--relay-move").map(io.cardnet.card.relay.RelayMove::parse)
                        .orElse(LabConfig.Relay.FIRMWARE.move()));
    }

    /** The value after {@code option} in a recorded command line, if it has one. */
    private static java.util.Optional<String> optionValue(List<String> command, String option) {
        int i = command.indexOf(option);
        return i >= 0 && i + 1 < command.size() ? java.util.Optional.of(command.get(i + 1)) : java.util.Optional.empty();
    }

    /**
     * Queue pairs the ends run: as configured, except a card VM, whose bus is one virtio-serial port and its DMA
     * regions PCI BARs (no direct rings, so one queue pair).
     */
    private int endQueues() {
        return config.runtime() == LabRuntime.VM || !config.sharedMemory() ? 1 : config.queues();
    }

    private static List<String> concat(List<String> first, String... rest) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(rest));
        return all;
    }

    private String namespaceOf(Component c) {
        return c == Component.CARD_NODE ? names.cardNamespace() : state.hostNamespace();
    }

    private void start(Component c) throws IOException {
        Path log = runDir.resolve(c.command() + ".log");
        List<String> command;
        if (c == Component.CARD_NODE) {
            String slot = state.firmware() == null ? "a" : state.firmware().active();
            WirePeerEsp.beforeBoot(this, slot);
            card.beforeBoot(slot);
            command = card.command(slot);
        } else {
            command = Launcher.command(c, args(c));
        }
        Process p = Launcher.start(namespaceOf(c), command, log);
        state = state.withProcess(c, LabState.Proc.of(p, namespaceOf(c), log.toString(), command));
        state.save();
        progress.accept("started " + c.displayName() + " (pid " + p.pid() + ", log " + log + ")");
    }

    /**
     * Boots card {@code k} of a pair into the firmware in {@code slot} without touching its namespace (which holds the
     * pair's wire identity, sync link and conntrackd): its card-node stops, the old firmware's ruleset ("inet card")
     * goes, and card-node starts on the slot; returns once its link has trained and its services answer. The caller
     * makes sure {@code k} is not the active (a hitless drill patches the standby).
     */
    public void bootPairCard(int k, String slot, Duration timeout) throws IOException {
        LabCard c = config.card(k);
        String key = c.processKey(Component.CARD_NODE);
        LabState.Proc p = state.processes().get(key);
        if (p != null) {
            Processes.stop(p, progress);
        }
        Shell.run(Shell.inNamespace(c.namespace(), List.of("nft", "delete", "table", "inet", "card")), 10);
        List<String> command = k == 0 ? card.command(slot) : ((NetnsCard) card).command(c, slot);
        Path log = c.runDir().resolve(Component.CARD_NODE.command() + ".log");
        Process proc = Launcher.start(c.namespace(), command, log, true);
        state = state.withProcess(key, LabState.Proc.of(proc, c.namespace(), log.toString(), command));
        state.save();
        progress.accept("card " + k + " boots firmware " + state.firmware().version(slot) + " (card-node pid " + proc.pid()
                + ")");
        if (k == 0) {
            awaitLinkUp(timeout);
        } else {
            awaitExtraLinkUp(c, timeout);
        }
        awaitCardServices(c, timeout);
    }

    /** Records {@code slot} as the one the lab's cards boot (after a hitless drill moved every card to it). */
    public void activateSlot(String slot) throws IOException {
        state = state.withFirmware(state.firmware().activate(slot));
        state.save();
    }

    /** Starts a process of the lab that is no component (a pair's conntrackd, its monitor) and records it by pid. */
    void startAux(String key, String ns, List<String> command, Path log) throws IOException {
        Process p = Launcher.start(ns, command, log);
        state = state.withProcess(key, LabState.Proc.of(p, ns, log.toString(), command));
        state.save();
        progress.accept("started " + key + " (pid " + p.pid() + ", log " + log + ")");
    }

    /**
     * Waits until the card's /metrics answers across the link: card-node serves it once every service of its
     * firmware runs (console, relay, ...), so a user's first ssh or connection after `up` finds them listening.
     */
    private void awaitCardServices(LabCard card, Duration timeout) throws IOException {
        String url = "http://" + card.cardAddress() + ":" + card.metrics().card() + "/metrics";
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                Integer code = onHostSide(() -> {
                    java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
                    c.setConnectTimeout(1000);
                    c.setReadTimeout(2000);
                    try {
                        return c.getResponseCode();
                    } finally {
                        c.disconnect();
                    }
                });
                if (code == 200) {
                    return;
                }
                last = "HTTP " + code;
            } catch (Exception e) {
                last = e.toString();
            }
            sleep(100);
        }
        throw new LabException("the card's services did not come up within " + timeout.toSeconds() + " s (" + url + ": "
                + last + "); see " + card.runDir().resolve("card-node.log"));
    }

    /** Cards 1..N-1 (none in a one-card lab). */
    private List<LabCard> extraCards() {
        List<LabCard> all = config.allCards();
        return all.subList(1, all.size());
    }

    /**
     * Starts card {@code c}'s card-node (in its namespace, booting the lab's active firmware) or host-bridge (toeK on
     * the host side); the simulator serves every card's link already.
     */
    private void startExtra(Component component, LabCard c) throws IOException {
        String slot = state.firmware() == null ? "a" : state.firmware().active();
        List<String> command = component == Component.CARD_NODE ? ((NetnsCard) card).command(c, slot)
                : Launcher.command(component, hostBridgeArgs(c));
        String ns = component == Component.CARD_NODE ? c.namespace() : state.hostNamespace();
        Path log = c.runDir().resolve(component.command() + ".log");
        Process p = Launcher.start(ns, command, log);
        state = state.withProcess(c.processKey(component), LabState.Proc.of(p, ns, log.toString(), command));
        state.save();
        progress.accept("started card " + c.index() + "'s " + component.displayName() + " (pid " + p.pid() + ", log "
                + log + ")");
    }

    /** Waits until card {@code c}'s link is up and its toeK has carrier; fails early if one of its processes died. */
    private void awaitExtraLinkUp(LabCard c, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer from the simulator yet";
        while (System.nanoTime() < deadline) {
            for (Component k : Component.values()) {
                LabState.Proc p = state.processes().get(k == Component.SIM ? k.command() : c.processKey(k));
                if (p != null && !Processes.isAlive(p)) {
                    throw new LabException("card " + c.index() + "'s " + k.displayName() + " (pid " + p.pid()
                            + ") exited while the lab was coming up; last lines of " + p.log() + ":\n"
                            + Processes.tail(Path.of(p.log()), 15));
                }
            }
            try {
                JsonNode s = ControlClient.status(c.controlSocket());
                last = "link " + s.path("state").asText();
                if ("UP".equals(s.path("state").asText()) && hostCarrier(c.index())) {
                    progress.accept("card " + c.index() + "'s link trained; " + c.hostDevice() + " has carrier");
                    return;
                }
            } catch (IOException e) {
                last = e.getMessage();
            }
            sleep(100);
        }
        throw new LabException("card " + c.index() + "'s link did not come up within " + timeout.toSeconds() + " s ("
                + last + "); logs are in " + c.runDir());
    }

    /**
     * Waits until both ends have trained and toe0 has carrier; fails early if a process dies. A VM card's boot is
     * long: what its console last said is shown every 10 s.
     */
    public void awaitLinkUp(Duration timeout) throws IOException {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long nextNotice = start + 10_000_000_000L;
        String last = "no answer from the simulator yet";
        while (System.nanoTime() < deadline) {
            for (Component c : Component.values()) {
                LabState.Proc p = state.processes().get(c.command());
                if (p != null && !Processes.isAlive(p)) {
                    String where = c == Component.CARD_NODE && config.runtime() == LabRuntime.VM
                            ? "; last lines of its console " + card.console() + ":\n" + Processes.tail(card.console(), 15)
                            + "\nand of QEMU's log " + p.log() + ":\n" + Processes.tail(Path.of(p.log()), 5)
                            : "; last lines of " + p.log() + ":\n" + Processes.tail(Path.of(p.log()), 15);
                    throw new LabException((c == Component.CARD_NODE && config.runtime() == LabRuntime.VM ? "the card VM"
                            : c.displayName()) + " (pid " + p.pid() + ") exited while the lab was coming up" + where);
                }
            }
            if (config.runtime() == LabRuntime.VM && System.nanoTime() > nextNotice) {
                nextNotice += 10_000_000_000L;
                progress.accept(String.format("the card VM is booting (%d s): %s", (System.nanoTime() - start) / 1_000_000_000L,
                        lastConsoleLine()));
            }
            try {
                JsonNode s = ControlClient.status(runDir.resolve("control.sock"));
                last = "link " + s.path("state").asText();
                if ("UP".equals(s.path("state").asText()) && hostCarrier()) {
                    return;
                }
            } catch (IOException e) {
                last = e.getMessage();
            }
            sleep(100);
        }
        throw new LabException("the link did not come up within " + timeout.toSeconds() + " s (" + last
                + "); logs are in " + runDir + (config.runtime() == LabRuntime.VM ? "; the card's console ends with:\n"
                + Processes.tail(card.console(), 15) : ""));
    }

    private String lastConsoleLine() {
        String tail = Processes.tail(card.console(), 1).strip();
        return tail.isEmpty() ? "(nothing on its console yet)" : tail.length() > 160 ? tail.substring(0, 160) + "…" : tail;
    }

    /** True if toe0 reports carrier (LOWER_UP) in the host side's namespace. */
    public boolean hostCarrier() throws IOException {
        return hostCarrier(0);
    }

    /** True if card {@code k}'s toeK reports carrier (LOWER_UP) in the host side's namespace. */
    public boolean hostCarrier(int k) throws IOException {
        String device = LabNames.hostDevice(k);
        Shell.Result r = Shell.run(hostNamespace() == null
                ? List.of("ip", "-o", "link", "show", device)
                : List.of("ip", "-n", hostNamespace(), "-o", "link", "show", device), 10);
        return r.ok() && r.output().contains("LOWER_UP") && !r.output().contains("NO-CARRIER");
    }

    // ---------------------------------------------------------------- attach, restart, down

    /** The lab of this name as recorded in its run directory. */
    public static Lab attach(String name, Path runRoot, Consumer<String> progress) throws IOException {
        LabConfig.requireValidName(name);
        Path runDir = runRoot.resolve(name);
        if (!Files.exists(LabState.file(runDir))) {
            throw new LabException("no lab named '" + name + "' is up (nothing in " + runDir + "); start one with"
                    + " `cardnet lab up" + (name.equals(LabConfig.DEFAULT_NAME) ? "" : " --name " + name) + "`");
        }
        LabState s = LabState.load(runDir);
        LabState.Proc card = s.processes().get(Component.CARD_NODE.command());
        boolean offload = card == null || !String.join(" ", card.command()).contains("--offload off");
        LabConfig cfg = LabConfig.defaults(name).withIsolated(s.isolated())
                .withCsum(ChecksumMode.valueOf(s.csum().toUpperCase())).withOffload(offload);
        Map<String, String> a = s.addresses();
        LabAddresses addresses = a != null && a.containsKey("host.toe0") ? new LabAddresses(
                EndpointAddress.parse(a.get("host.toe0")), EndpointAddress.parse(a.get("card.host0")),
                EndpointAddress.parse(a.get("card.eth0")), EndpointAddress.parse(a.get("wire.eth0"))) : cfg.addresses();
        LabState.Proc sim = s.processes().get(Component.SIM.command());
        boolean shared = sim == null || sim.command().contains("--dma");
        int queues = sim == null ? cfg.queues() : optionValue(sim.command(), "--queues").map(Integer::parseInt).orElse(1);
        LabState.Proc hb = s.processes().get(Component.HOST_BRIDGE.command());
        java.time.Duration busyPoll = java.time.Duration.ofNanos(1000 * (hb == null ? 0
                : optionValue(hb.command(), "--busy-poll").map(Long::parseLong).orElse(0L)));
        cfg = new LabConfig(cfg.name(), cfg.isolated(), cfg.csum(), addresses, cfg.liveness(), 0,
                cfg.metricsPorts(), runRoot, cfg.healthTimeout(), shared, cfg.linkModel(), cfg.offload(),
                cfg.firmware(), LabRuntime.NETNS, cfg.vm(), queues, busyPoll, null, relayOf(card)).withRuntime(s.cardRuntime())
                .withExport(hb == null ? null : optionValue(hb.command(), "--export").map(Path::of).orElse(null))
                .withCards(new LabConfig.Cards(Math.max(1, s.cards()), s.upstream(), PairState.exists(runDir)));
        if (s.vm() != null) {
            cfg = cfg.withVm(new io.cardnet.lab.runtime.vm.VmSettings(cfg.vm().accel(), s.vm().cpus(), s.vm().memoryMiB()));
        }
        return new Lab(cfg, s, progress);
    }

    /** Stops a component (if it runs) and starts it again with the same arguments. */
    public void restart(Component c) throws IOException {
        LabState.Proc p = state.processes().get(c.command());
        if (p != null) {
            Processes.stop(p, progress);
        }
        if (c == Component.CARD_NODE) {
            // a new card-node starts its ESP sequence numbers at 1: the peer's end gets new keys with it
            WirePeerEsp.stop(this);
            WirePeerEsp.beforeBoot(this, state.firmware() == null ? "a" : state.firmware().active());
        }
        Path log = Path.of(p != null ? p.log() : runDir.resolve(c.command() + ".log").toString());
        List<String> command = p != null ? p.command()
                : c == Component.CARD_NODE ? card.command(state.firmware() == null ? "a" : state.firmware().active())
                : Launcher.command(c, args(c));
        Process proc = Launcher.start(p != null ? p.namespace() : namespaceOf(c), command, log, true);
        state = state.withProcess(c, LabState.Proc.of(proc, p != null ? p.namespace() : namespaceOf(c),
                log.toString(), command));
        state.save();
        progress.accept("restarted " + c.displayName() + " (pid " + proc.pid() + ")");
    }

    /**
     * Stops card {@code k}'s card-node or host-bridge and starts it again with the same command (card 0: as
     * {@link #restart(Component)}); then waits for that card's link. The simulator is every card's: restart it
     * without a card.
     */
    public void restart(int k, Component c, Duration timeout) throws IOException {
        if (k == 0) {
            restart(c);
            awaitLinkUp(timeout);
            return;
        }
        LabCard lc = config.card(k);
        if (c == Component.SIM) {
            throw new LabException("one simulator carries every card's link: `cardnet lab restart sim` without --card"
                    + " restarts it, and every card's link retrains");
        }
        LabState.Proc p = state.processes().get(lc.processKey(c));
        if (p == null) {
            throw new LabException("lab '" + config.name() + "' has no record of card " + k + "'s " + c.displayName());
        }
        Processes.stop(p, progress);
        Process proc = Launcher.start(p.namespace(), p.command(), Path.of(p.log()));
        state = state.withProcess(lc.processKey(c), LabState.Proc.of(proc, p.namespace(), p.log(), p.command()));
        state.save();
        progress.accept("restarted card " + k + "'s " + c.displayName() + " (pid " + proc.pid() + ")");
        awaitExtraLinkUp(lc, timeout);
    }

    /**
     * Reads the state file again: another cardnet process (a drill, `lab restart`) may have replaced a component
     * since this object last looked.
     */
    public void refresh() {
        LabState s = onDisk();
        if (s != null) {
            state = s;
        }
    }

    private LabState onDisk() {
        try {
            return Files.exists(LabState.file(runDir)) ? LabState.load(runDir) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Removes everything this lab created. Safe to call twice and on a lab that half came up. */
    public void down() {
        List<String> problems = new ArrayList<>();
        List<LabState.Proc> procs = new ArrayList<>();
        // The state file is the truth: another cardnet process (a drill, `lab restart`) may have replaced a
        // component since this one last read it. Stop what either knows of.
        for (LabState s : java.util.Arrays.asList(state, onDisk())) {
            if (s == null) {
                continue;
            }
            // every card's host-bridge, then card-node, then the simulator, then anything else (the wire's ESP end)
            List<String> keys = new ArrayList<>(s.processes().keySet());
            keys.sort(java.util.Comparator.comparingInt(Lab::stopOrder));
            for (String key : keys) {
                LabState.Proc p = s.processes().get(key);
                if (procs.stream().noneMatch(q -> q.pid() == p.pid() && java.util.Objects.equals(q.started(), p.started()))) {
                    procs.add(p);
                }
            }
        }
        // a pair's monitor first: it would take the lab's own stopping for a failed card
        for (LabState.Proc p : List.copyOf(procs)) {
            if (p.command().contains(PairWiring.MONITOR)) {
                Processes.stop(p, progress);
                procs.remove(p);
            }
        }
        Processes.stopAll(procs, progress);
        try {
            // persistent: they outlive host-bridge, whether it stopped or died
            HostTuns.removeAll(config.isolated() ? names.hostNamespace() : null, HostTuns.label(config.name()), progress);
        } catch (IOException | RuntimeException e) {
            problems.add("could not remove the lab's toe devices: " + e.getMessage());
        }
        if (config.cards().pair() && !config.isolated()) {
            try {
                PairWiring.removeHostIdentity(); // an isolated lab's goes with its host namespace
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        for (String ns : names.allNamespaces()) {
            try {
                if (Files.exists(Path.of("/run/netns", ns))) {
                    Shell.ip("netns", "del", ns);
                    progress.accept("removed namespace " + ns);
                }
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        try {
            // The simulator removes its DMA regions when it stops; after a kill -9 this does.
            Processes.deleteTree(config.dmaDir());
            for (int k = 1; k < LabConfig.Cards.MAX; k++) {
                Processes.deleteTree(Path.of(config.dmaDir() + "-card" + k));
            }
            Processes.deleteTree(config.httpdCacheDir()); // card-node removes it when it stops; after a kill -9 this does
            Processes.deleteTree(runDir);
            deleteIfEmpty(runDir.getParent());
        } catch (IOException e) {
            problems.add("could not remove " + runDir + ": " + e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new LabException("lab down left things behind:\n  " + String.join("\n  ", problems));
        }
    }

    private static int stopOrder(String processKey) {
        String component = processKey.contains(".") ? processKey.substring(0, processKey.indexOf('.')) : processKey;
        return switch (component) {
            case "host-bridge" -> 0;
            case "card-node" -> 1;
            case "sim" -> 2;
            default -> 3;
        };
    }

    /** The parent of all labs' run directories goes with the last lab. */
    private static void deleteIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // another lab still runs there (DirectoryNotEmptyException): leave it
        }
    }

    @Override
    public void close() {
        down();
    }

    // ---------------------------------------------------------------- the card, whatever it runs on

    /** Runs {@code argv} on the card (its namespace, or inside its VM) and returns what it printed. */
    public ExecResult execOnCard(List<String> argv, Duration timeout) throws IOException {
        return card.exec(argv, timeout);
    }

    /** Runs {@code argv} on card {@code k} (card 0 as {@link #execOnCard(List, Duration)}). */
    public ExecResult execOnCard(int k, List<String> argv, Duration timeout) throws IOException {
        LabCard c = config.card(k);
        return k == 0 ? card.exec(argv, timeout) : ExecResult.run(Shell.inNamespace(c.namespace(), argv), timeout);
    }

    /** Where card {@code k} lives; an error naming the lab's cards if it has no card {@code k}. */
    public LabCard card(int k) {
        return config.card(k);
    }

    /** Card {@code k}'s link, from its control socket. */
    public JsonNode linkStatus(int k) throws IOException {
        return ControlClient.status(config.card(k).controlSocket());
    }

    /** Whether card {@code k}'s processes (by pid and start time) run; the simulator is every card's. */
    public boolean isRunning(int k, Component c) {
        LabState.Proc p = state.processes().get(c == Component.SIM ? c.command() : config.card(k).processKey(c));
        return p != null && Processes.isAlive(p);
    }

    /** The command card {@code k}'s component was last started with, as recorded; empty if none is. */
    public List<String> command(int k, Component c) {
        LabState.Proc p = state.processes().get(c == Component.SIM ? c.command() : config.card(k).processKey(c));
        return p == null ? List.of() : p.command();
    }

    public long pid(int k, Component c) {
        LabState.Proc p = state.processes().get(c == Component.SIM ? c.command() : config.card(k).processKey(c));
        return p == null ? -1 : p.pid();
    }

    /** The card's console: a VM's serial log, or card-node's log for a netns card. */
    public Path cardConsole() {
        return card.console();
    }

    /** The kernel release the card runs (the host's for a netns card). */
    public String cardKernel() {
        return card.kernel();
    }

    public LabRuntime runtime() {
        return config.runtime();
    }

    void progress(String line) {
        progress.accept(line);
    }

    /** A runtime's change to the state file, saved at once. */
    void updateState(LabState next) throws IOException {
        state = next;
        state.save();
    }

    // ---------------------------------------------------------------- queries

    public LabState state() {
        return state;
    }

    public LabConfig config() {
        return config;
    }

    public LabNames names() {
        return names;
    }

    /** The host side's namespace, or null when the host side is the caller's namespace. */
    public String hostNamespace() {
        return state.hostNamespace();
    }

    public Path runDir() {
        return runDir;
    }

    /** toe0's address (the host end of the link), without prefix. */
    public String hostAddress() {
        return config.addresses().hostLink().address().getHostAddress();
    }

    /** host0's address (the card end of the link), without prefix. */
    public String cardAddress() {
        return config.addresses().cardLink().address().getHostAddress();
    }

    /** Runs {@code work} on the host side: in the lab's host namespace when isolated, else in the caller's. */
    public <T> T onHostSide(java.util.concurrent.Callable<T> work) throws Exception {
        return hostNamespace() == null ? work.call() : io.cardnet.netdev.NetNamespace.call(hostNamespace(), work);
    }

    public JsonNode linkStatus() throws IOException {
        return ControlClient.status(runDir.resolve("control.sock"));
    }

    /** The bus's link model right now ("unlimited", "gen3x4", ...). */
    public String linkModel() throws IOException {
        return ControlClient.request(runDir.resolve("control.sock"), Map.of("op", "show"))
                .path("settings").path("model").asText();
    }

    /** Switches the bus's link model at once. */
    public void setLinkModel(String model) throws IOException {
        ControlClient.request(runDir.resolve("control.sock"), Map.of("op", "set", "model", model));
    }

    /** True if a process of this pid runs (an exited, not yet reaped process does not). */
    public static boolean isRunning(long pid) {
        return ProcessHandle.of(pid).map(h -> h.isAlive() && !Processes.isZombie(pid)).orElse(false);
    }

    /** True if the component's process (by pid and start time) still runs. */
    public boolean isRunning(Component c) {
        LabState.Proc p = state.processes().get(c.command());
        return p != null && Processes.isAlive(p);
    }

    public long pid(Component c) {
        LabState.Proc p = state.processes().get(c.command());
        return p == null ? -1 : p.pid();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted");
        }
    }
}
