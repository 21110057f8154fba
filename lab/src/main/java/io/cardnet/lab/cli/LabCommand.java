package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.Capabilities;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabAddresses;
import io.cardnet.lab.runtime.LabConfig;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.link.port.ChecksumMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "lab", mixinStandardHelpOptions = true,
        description = "Run the embedded lab in network namespaces: host ⇄ bus ⇄ card ⇄ wire peer. Needs root (it creates namespaces, a veth pair and TUN devices)."
                + " With --runtime compose, up/status/down run the compose lab (compose.yaml, each card a container) instead.",
        subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.Status.class, LabCommand.Restart.class})
final class LabCommand {

    static final class NameOption {
        @Option(names = {"--name", "--lab"}, defaultValue = LabConfig.DEFAULT_NAME,
                description = "The lab's name; namespaces are cardnet-NAME-card/-wire/-host (default: ${DEFAULT-VALUE}).")
        String name;

        @Option(names = "--run-dir", defaultValue = "/run/cardnet", hidden = true,
                description = "Parent of the labs' run directories.")
        Path runRoot;
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Create the lab, start pci-link-sim, the card and host-bridge, wait until the link has trained, and warm the data path with real packets until it runs at its steady rate (--no-warm skips that), so what you measure first is the link, not the JIT. Stays in the foreground; Ctrl-C removes everything. With --detach it returns once the lab is up, and `cardnet lab down` removes it."
                    + " The card is a network namespace on this kernel (--runtime netns), or a QEMU virtual machine with the firmware's own Linux kernel (--runtime vm), whose bus is PCI devices: the DMA regions as ivshmem memory, the descriptor channel as a virtio-serial port.",
            footer = {"", "Examples:",
                    "  sudo ./cardnet lab up                      # toe0 in this namespace, card and wire peer in their own",
                    "  sudo ./cardnet lab up --isolated --name t1  # host side in its own namespace too",
                    "  sudo ./cardnet lab up --csum verify         # no trust: full checksums, receivers verify",
                    "  sudo ./cardnet lab up --runtime vm          # the card as a VM booting its firmware's kernel (TCG: ~30 s)",
                    "  sudo ./cardnet lab up --runtime vm --firmware 1.1.0 --accel tcg   # kernel 6.12, no KVM probe",
                    "  sudo ./cardnet lab up --detach --no-warm    # return at link-up; the first seconds run cold",
                    "  sudo ./cardnet lab up --export ~/site        # the card serves ~/site on http://198.19.0.2/ (fetched over the bus)",
                    "  sudo ./cardnet lab up --cards 2 --link gen2x1 --upstream gen2x1   # two cards behind one switch",
                    "  sudo ./cardnet lab up --cards 2 --pair --detach   # an active/standby pair; then `cardnet failover`",
                    "  sudo ./cardnet lab up --runtime compose --cards 2   # the compose lab, each card a container (detached)",
                    "  sudo ./cardnet lab status --runtime compose         # its cards, links and counters",
                    "  sudo ./cardnet lab down --runtime compose           # docker compose down -v",
                    "",
                    "The first lab of a new build trains the JVMs' AOT caches on a throwaway lab's traffic (about a minute,",
                    "once per jar; kept in /var/cache/cardnet/aot, CARDNET_AOT_CACHE=DIR|off overrides). `lab status`",
                    "shows the cache the lab uses and what its warm-up did.",
                    "",
                    "The VM runtime builds the card's image on first use (images/vm/build.sh: a Debian kernel, the base",
                    "root filesystem and card-node; cached in /var/cache/cardnet) and needs qemu-system-x86 and qemu-utils."})
    static final class Up implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        NameOption lab;

        @Option(names = "--isolated", description = "Put the host side (toe0, host-bridge, the simulator) in its own namespace cardnet-NAME-host.")
        boolean isolated;

        @Option(names = "--csum", defaultValue = "unnecessary",
                description = "unnecessary (the design: the bus is trusted) or verify (full checksums, receivers verify) (default: ${DEFAULT-VALUE}).")
        String csum;

        @Option(names = "--link-subnet", defaultValue = "198.18.0.0/30", description = "host .1 ⇄ card .2 (default: ${DEFAULT-VALUE}).")
        String linkSubnet;

        @Option(names = "--wire-subnet", defaultValue = "198.19.0.0/24", description = "wire peer .1 ⇄ card .2 (default: ${DEFAULT-VALUE}).")
        String wireSubnet;

        @Option(names = "--timeout", converter = Converters.DurationConverter.class,
                description = "How long to wait for the link to train (default: 30s; 240s for a VM card).")
        Duration timeout;

        @Option(names = "--runtime", defaultValue = "netns", paramLabel = "netns|vm|compose",
                description = "netns: the card is a network namespace on this kernel; vm: a QEMU virtual machine with"
                        + " its firmware's own kernel; compose: the compose lab (compose.yaml, each card a container;"
                        + " --project, --file), brought up detached with `docker compose up -d --wait`"
                        + " (default: ${DEFAULT-VALUE}).")
        String runtime;

        @picocli.CommandLine.Mixin
        ComposeLabs.ProjectOptions compose;

        @Option(names = "--accel", defaultValue = "auto", paramLabel = "auto|kvm|tcg",
                description = "With --runtime vm: auto uses KVM only where a probe boot proves it works (it says which"
                        + " and why), else TCG; kvm fails if it does not work (default: ${DEFAULT-VALUE}).")
        String accel;

        @Option(names = "--vm-cpus", defaultValue = "2", description = "With --runtime vm: the card's vCPUs (default: ${DEFAULT-VALUE}).")
        int vmCpus;

        @Option(names = "--vm-memory", defaultValue = "1024", paramLabel = "MiB",
                description = "With --runtime vm: the card's memory in MiB (default: ${DEFAULT-VALUE}).")
        int vmMemory;

        @Option(names = "--metrics-ports", defaultValue = "9470,9471,9472", split = ",",
                description = "/metrics ports of sim, host-bridge, card-node (default: ${DEFAULT-VALUE}).")
        int[] metricsPorts;

        @Option(names = "--test-corrupt-tcp-csum-to-host", defaultValue = "0", hidden = true,
                description = "Test switch: the simulator flips every Nth TCP checksum toward the host.")
        int corruptEvery;

        @Option(names = "--link", defaultValue = "unlimited",
                description = "The bus's model at start: unlimited, or a PCIe link genGxL such as gen3x4 (default: ${DEFAULT-VALUE});"
                        + " `cardnet link set` changes it later.")
        String link;

        @Option(names = "--offload", defaultValue = "on",
                description = "on: toe0 and host0 take partial checksums and 64K TSO packets (the design); off: plain NICs (default: ${DEFAULT-VALUE}).")
        String offload;

        @Option(names = "--queues", paramLabel = "N",
                description = "Queue pairs of toe0 and host0, 1..8 (default: one per core, here ${DEFAULT-VALUE}): each is a"
                        + " TUN queue with its own bus thread, rings, credits and doorbells, like virtio-net multiqueue;"
                        + " the kernel keeps each flow on one queue. They run on the direct rings (an unpaced link);"
                        + " while descriptors cross the simulator the link runs one. `cardnet link show` gives each"
                        + " queue's figures.")
        int queues = LabConfig.defaultQueues();

        @Option(names = "--busy-poll", paramLabel = "MICROS", defaultValue = "0",
                description = "Adaptive polling on the direct rings: after work, toe0's and host0's bus threads keep"
                        + " looking for up to MICROS µs (0..1000) before they sleep, the window growing while traffic"
                        + " is dense and shrinking to nothing when it is sparse (like a guest's haltpoll). Default 0:"
                        + " on 2 cores the spinning thread takes the core the application needs (see BENCHMARKS.md,"
                        + " latency); try 100..200 on a machine with cores to spare.")
        long busyPollMicros;

        @picocli.CommandLine.Mixin
        RelayOptions relay;

        @Option(names = "--no-shared-memory",
                description = "Send packets inside the bus frames instead of through shared DMA memory (slower; for comparison).")
        boolean noSharedMemory;

        @Option(names = "--firmware", paramLabel = "VERSION|DIR", defaultValue = FirmwareCatalog.DEFAULT_VERSION,
                description = "The card's firmware: a shipped version (images/card-firmware/VERSION) or a directory"
                        + " (default: ${DEFAULT-VALUE}); `cardnet drill --to` swaps it later.")
        String firmware;

        @Option(names = {"-d", "--detach"}, description = "Return once the lab is up instead of staying in the foreground.")
        boolean detach;

        @Option(names = "--no-warm", description = "Return as soon as the link has trained, without warming the data"
                + " path first: the first seconds of traffic then run at a fraction of the lab's speed while the JVMs compile it.")
        boolean noWarm;

        @Option(names = "--json", description = "Print the lab's state as JSON once it is up.")
        boolean json;

        @Option(names = "--cards", paramLabel = "N", defaultValue = "1",
                description = "Cards in the host, 1..8 (default: ${DEFAULT-VALUE}): toe0..toe(N-1), card K in its own"
                        + " namespace cardnet-NAME-cardK with its own link, addresses (card 0's subnets moved up by K:"
                        + " link 198.18.0.4K/30, wire 198.19.K.0/24) and /metrics; one simulator carries every link."
                        + " `--card K` on link, card exec and capture picks one. With --runtime compose card K is the"
                        + " container cardK, its link 198.18.2K.0/30 and wire 198.18.(2K+1).0/24 (Docker's networks need"
                        + " that plan; docs/architecture.md); the vm runtime runs one card.")
        int cards;

        @Option(names = "--pair", description = "With --cards 2: make the two cards an active/standby failover pair for one"
                + " wire network and one wire identity (198.19.0.2, one MAC; the standby's eth0 down). conntrackd (FTFW)"
                + " syncs connection tracking and NAT bindings over a sync link between the cards; a monitor takes over"
                + " when the active's link is lost; `cardnet failover` switches on purpose. The host's wire traffic"
                + " leaves from " + io.cardnet.lab.runtime.PairPlan.HOST_ROUTED + " (routed) and "
                + io.cardnet.lab.runtime.PairPlan.HOST_NATED + " (NATed by the card) on toeha. netns runtime only.")
        boolean pair;

        @Option(names = "--upstream", paramLabel = "MODEL",
                description = "Put the cards behind one PCIe switch whose upstream link is MODEL (genGxL, e.g. gen3x4):"
                        + " together they cannot move more than it carries, one card alone gets its own link's rate."
                        + " Descriptors then cross the simulator, which paces the shared upstream.")
        String upstream;

        @Option(names = "--export", paramLabel = "DIR",
                description = "Serve DIR from the host to the card over the bus (read-only, on toe0's address, to the card"
                        + " only), and run the card's web server on its wire address: a wire client's"
                        + " `curl http://198.19.0.2/FILE` gets DIR/FILE, fetched once across the bus and then served from card memory.")
        java.nio.file.Path export;

        @Override
        public Integer call() throws Exception {
            if (metricsPorts.length != 3) {
                throw new IllegalArgumentException("--metrics-ports takes three ports: sim,host-bridge,card-node");
            }
            if (ComposeLabs.isCompose(runtime)) {
                return upCompose();
            }
            io.cardnet.lab.runtime.LabRuntime rt = io.cardnet.lab.runtime.LabRuntime.parse(runtime);
            LabConfig cfg = new LabConfig(lab.name, isolated, ChecksumMode.parse(csum),
                    LabAddresses.of(linkSubnet, wireSubnet), LabConfig.defaults(lab.name).liveness(), corruptEvery,
                    new LabConfig.MetricsPorts(metricsPorts[0], metricsPorts[1], metricsPorts[2]), lab.runRoot,
                    timeout == null ? Duration.ofSeconds(30) : timeout, !noSharedMemory, link,
                    Converters.onOff(offload, "--offload"), FirmwareCatalog.resolve(firmware),
                    io.cardnet.lab.runtime.LabRuntime.NETNS, new io.cardnet.lab.runtime.vm.VmSettings(
                    io.cardnet.lab.runtime.vm.Accelerator.Request.parse(accel), vmCpus, vmMemory), queues,
                    Duration.ofNanos(busyPollMicros * 1000), null, relay.labSetting()).withRuntime(rt)
                    .withCards(new LabConfig.Cards(cards, upstream, pair));
            if (timeout != null) {
                cfg = cfg.withHealthTimeout(timeout);
            }
            if (export != null) {
                if (!java.nio.file.Files.isDirectory(export)) {
                    throw new IllegalArgumentException("--export " + export + " is not a directory: give the directory the card should serve");
                }
                cfg = cfg.withExport(export.toRealPath());
            }
            long start = System.nanoTime();
            Lab l = Lab.up(cfg, Output::progress);
            // From here Ctrl-C removes the lab, also while it warms up (a detached lab up keeps it once warm).
            DownOnExit down = new DownOnExit(l);
            try {
                l.warmUp(noWarm);
            } catch (RuntimeException | java.io.IOException e) {
                if (down.started()) {
                    return 130; // Ctrl-C: the hook is taking the lab down, and the warm-up lost its card
                }
                down.cancel();
                Output.progress("warming the lab up failed; removing it");
                l.down();
                throw e;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (json) {
                Output.json(System.out, l.state());
            } else {
                System.out.print(Topology.describe(l, seconds));
            }
            System.out.flush();
            if (detach) {
                down.cancel();
                return 0;
            }
            return stayInForeground(l, down);
        }

        /**
         * The compose lab: compose.yaml's options come from the environment compose reads (LINK_MODEL, LINK_UPSTREAM,
         * CARD_FIRMWARE, CARD_RELAY); what only the embedded lab has is refused rather than silently ignored.
         */
        private int upCompose() throws IOException {
            if (isolated || export != null) {
                throw new IllegalArgumentException((isolated ? "--isolated" : "--export") + " is the embedded lab's;"
                        + " the compose lab's host side is always its host container, and CARDNET_EXPORT=DIR serves a"
                        + " directory there (README, \"The compose lab\")");
            }
            if (pair) {
                throw new IllegalArgumentException("--pair runs on the netns runtime only for now (its monitor and"
                        + " conntrackd sync live in the lab's namespaces); drop --runtime compose");
            }
            LabConfig.Cards c = new LabConfig.Cards(cards, upstream);
            Map<String, String> env = new LinkedHashMap<>();
            io.cardnet.link.model.LinkProfile.parse(link);
            env.put("LINK_MODEL", link);
            if (upstream != null) {
                if (cards == 1) {
                    throw new IllegalArgumentException("--upstream shares a switch between cards: give --cards 2 or more");
                }
                env.put("LINK_UPSTREAM", upstream);
            }
            if (!Files.isDirectory(Path.of(firmware))) {
                FirmwareCatalog.resolve(firmware); // a shipped version, or the message naming those there are
                env.put("CARD_FIRMWARE", "cardnet/card-firmware:" + firmware);
            } else {
                throw new IllegalArgumentException("--firmware " + firmware + ": the compose lab's card runs a firmware"
                        + " image, cardnet/card-firmware:VERSION (images/build.sh builds one per shipped version); give a"
                        + " version");
            }
            if (relay.on() != null) {
                env.put("CARD_RELAY", relay.on() ? "on" : "off");
            }
            return ComposeLabs.up(compose, c, env, json);
        }

        /** A shutdown hook (Ctrl-C, SIGTERM) that takes the lab down once. */
        private static final class DownOnExit {
            private final Thread hook;
            private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

            DownOnExit(Lab l) {
                hook = new Thread(() -> {
                    if (started.compareAndSet(false, true)) {
                        Output.progress("taking the lab down");
                        try {
                            l.down();
                            Output.progress("lab '" + l.config().name() + "' is down; nothing left behind");
                        } catch (RuntimeException e) {
                            System.err.println("cardnet: " + e.getMessage());
                        }
                    }
                }, "lab-down");
                Runtime.getRuntime().addShutdownHook(hook);
            }

            /** True once the JVM is shutting down and the lab is being (or has been) taken down. */
            boolean started() {
                return started.get();
            }

            void cancel() {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down: the hook runs anyway
                }
            }
        }

        private static int stayInForeground(Lab l, DownOnExit down) throws InterruptedException {
            Thread main = Thread.currentThread();
            Map<String, Boolean> alive = new LinkedHashMap<>();
            while (true) {
                Thread.sleep(1000);
                if (!Files.exists(LabState.file(l.runDir()))) {
                    if (!down.started()) {
                        Output.progress("the lab was taken down elsewhere; exiting");
                        down.cancel();
                    }
                    return 0;
                }
                if (down.started()) {
                    continue; // Ctrl-C: its processes stop now, which is no news
                }
                l.refresh();
                for (var card : l.config().allCards()) {
                    for (Component c : Component.values()) {
                        if (c == Component.SIM && card.index() > 0) {
                            continue; // one simulator for every card
                        }
                        long pid = l.pid(card.index(), c);
                        boolean now = l.isRunning(card.index(), c);
                        // keyed by pid too: a component a drill or `lab restart` replaced is a new process, not an exit
                        Boolean before = alive.put(card.processKey(c) + "/" + pid, now);
                        if (before != null && before && !now) {
                            String which = card.index() == 0 ? "" : " --card " + card.index();
                            Output.progress((card.index() == 0 ? "" : "card " + card.index() + "'s ") + c.displayName()
                                    + " (pid " + pid + ") exited; see its log, and restart it with `cardnet lab restart "
                                    + c.command() + which + " --name " + l.config().name() + "`");
                        }
                    }
                }
                if (main.isInterrupted()) {
                    return 0;
                }
            }
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop the lab's processes (by pid) and remove its namespaces, devices, sockets and run directory.")
    static final class Down implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        NameOption lab;

        @Option(names = "--json", description = "Print {\"lab\":NAME,\"down\":true} when done.")
        boolean json;

        @Option(names = "--runtime", defaultValue = "netns", paramLabel = "netns|compose",
                description = "compose: take the compose project (--project) down with `docker compose down -v`;"
                        + " otherwise the embedded lab named by --name, whatever its card (default: ${DEFAULT-VALUE}).")
        String runtime;

        @picocli.CommandLine.Mixin
        ComposeLabs.ProjectOptions compose;

        @Override
        public Integer call() throws Exception {
            if (ComposeLabs.isCompose(runtime)) {
                return ComposeLabs.down(compose, json);
            }
            io.cardnet.lab.runtime.Privileges.requireNetAdmin("cardnet lab down");
            Lab.attach(lab.name, lab.runRoot, json ? s -> { } : Output::progress).down();
            if (json) {
                Output.json(System.out, Map.of("lab", lab.name, "down", true));
            } else {
                System.out.println("lab '" + lab.name + "' is down; nothing left behind");
            }
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the lab's processes (pid, running, effective capabilities from /proc/PID/status), the link state and the bus counters.")
    static final class Status implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        NameOption lab;

        @Option(names = "--json", description = "Print the status as JSON.")
        boolean json;

        @Option(names = "--runtime", defaultValue = "netns", paramLabel = "netns|compose",
                description = "compose: the compose project (--project): every card's container, toeK carrier, link and"
                        + " counters; otherwise the embedded lab named by --name (default: ${DEFAULT-VALUE}).")
        String runtime;

        @picocli.CommandLine.Mixin
        ComposeLabs.ProjectOptions compose;

        @Override
        public Integer call() throws Exception {
            if (ComposeLabs.isCompose(runtime)) {
                return ComposeLabs.status(compose, json);
            }
            Lab l = Lab.attach(lab.name, lab.runRoot, s -> { });
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("lab", l.config().name());
            out.put("isolated", l.state().isolated());
            out.put("runtime", l.runtime().id());
            out.put("cardKernel", l.cardKernel());
            if (l.state().vm() != null) {
                out.put("vm", l.state().vm());
            }
            out.put("csum", l.state().csum());
            out.put("aot", l.state().aot());
            out.put("warmUp", l.state().warmUp());
            Map<String, ProcStatus> procs = new LinkedHashMap<>();
            boolean allAlive = true;
            for (Component c : Component.values()) {
                ProcStatus p = ProcStatus.of(l, 0, c);
                allAlive &= p.alive();
                procs.put(c.command(), p);
            }
            out.put("processes", procs);
            LabState.FirmwareSlots fw = l.state().firmware();
            if (fw != null) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("version", fw.activeVersion());
                f.put("active", fw.active());
                f.put("a", fw.a());
                f.put("b", fw.b());
                out.put("firmware", f);
            }
            boolean carrier = false;
            try {
                carrier = l.hostCarrier();
            } catch (IOException e) {
                out.put("carrierError", e.getMessage());
            }
            out.put("toe0Carrier", carrier);
            JsonNode link = null;
            try {
                link = l.linkStatus();
                out.put("link", link);
            } catch (IOException e) {
                out.put("linkError", e.getMessage());
            }
            out.put("addresses", l.state().addresses());
            out.put("metrics", l.state().metrics());
            java.util.List<Map<String, Object>> cards = new java.util.ArrayList<>();
            for (var c : l.config().allCards()) {
                Map<String, Object> card = cardStatus(l, c, c.index() == 0 ? link : null);
                allAlive &= Boolean.TRUE.equals(card.get("running")) && "UP".equals(card.get("linkState"));
                cards.add(card);
            }
            out.put("cards", cards);
            if (l.config().cards().upstream() != null) {
                out.put("upstream", l.config().cards().upstream());
            }
            io.cardnet.lab.runtime.PairState pair = io.cardnet.lab.runtime.PairState.exists(l.runDir())
                    ? io.cardnet.lab.runtime.PairState.load(l.runDir()) : null;
            if (pair != null) {
                out.put("pair", pair);
            }
            var keys = l.consoleKeys();
            if (java.nio.file.Files.exists(keys.privateKey())) {
                Map<String, Object> console = new LinkedHashMap<>();
                console.put("address", l.cardAddress() + ":" + io.cardnet.lab.runtime.LabConsoleKeys.PORT);
                console.put("user", io.cardnet.lab.runtime.LabConsoleKeys.USER);
                console.put("key", keys.privateKey().toString());
                console.put("knownHosts", keys.knownHosts().toString());
                if (l.state().vm() == null) {
                    // a VM card's SFTP root is in its guest (/run/cardnet/console/data), not on this machine
                    console.put("data", keys.cardData().toString());
                }
                out.put("console", console);
            }
            if (json) {
                Output.json(System.out, out);
            } else {
                System.out.print(Topology.status(l, procs, carrier, link));
                if (cards.size() > 1 || l.config().cards().upstream() != null) {
                    System.out.print(Topology.cards(cards, l.config().cards().upstream()));
                }
                if (pair != null) {
                    System.out.print(Topology.pair(pair));
                }
            }
            return allAlive && link != null && "UP".equals(link.path("state").asText()) ? 0 : 3;
        }
    }

    /**
     * One card in `lab status`: its namespace, toeK and carrier, addresses, processes, link state and traffic, and
     * /metrics. {@code link0} is card 0's link as already asked (null: ask).
     */
    static Map<String, Object> cardStatus(Lab l, io.cardnet.lab.runtime.LabCard c, JsonNode link0) {
        Map<String, Object> card = new LinkedHashMap<>();
        card.put("card", c.index());
        card.put("namespace", c.namespace());
        card.put("hostDevice", c.hostDevice());
        card.put("addresses", Map.of("host", c.addresses().hostLink().toString(), "host0", c.addresses().cardLink().toString(),
                "eth0", c.addresses().cardWire().toString(), "wirePeer", c.addresses().peerWire().toString()));
        Map<String, ProcStatus> procs = new LinkedHashMap<>();
        boolean running = true;
        for (Component k : java.util.List.of(Component.CARD_NODE, Component.HOST_BRIDGE)) {
            ProcStatus p = ProcStatus.of(l, c.index(), k);
            running &= p.alive();
            procs.put(c.processKey(k), p);
        }
        card.put("processes", procs);
        card.put("running", running);
        try {
            card.put("carrier", l.hostCarrier(c.index()));
        } catch (IOException e) {
            card.put("carrierError", e.getMessage());
        }
        try {
            JsonNode link = link0 != null ? link0 : l.linkStatus(c.index());
            card.put("linkState", link.path("state").asText());
            card.put("traffic", link.path("traffic"));
        } catch (IOException e) {
            card.put("linkError", e.getMessage());
        }
        card.put("controlSocket", c.controlSocket().toString());
        card.put("metrics", Map.of("sim", "http://127.0.0.1:" + c.metrics().sim() + "/metrics",
                "host-bridge", "http://127.0.0.1:" + c.metrics().hostBridge() + "/metrics",
                "card-node", "http://" + c.cardAddress() + ":" + c.metrics().card() + "/metrics"));
        return card;
    }

    /**
     * One process in `lab status`: its effective capabilities by name (/proc/PID/status CapEff), and why it keeps
     * those ({@link Capabilities#why}, from the command it was started with).
     */
    record ProcStatus(long pid, boolean alive, List<String> capabilities, String why) {
        static ProcStatus of(Lab l, int card, Component c) {
            long pid = l.pid(card, c);
            boolean alive = l.isRunning(card, c);
            return new ProcStatus(pid, alive, alive ? Capabilities.effective(pid) : List.of(),
                    Capabilities.why(c, l.command(card, c)));
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Stop a component (if it still runs) and start it again, e.g. after `kill -9` of card-node."
                    + " For a VM card, card-node is its QEMU: the card boots again from its active slot.")
    static final class Restart implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        NameOption lab;

        @Parameters(paramLabel = "COMPONENT", description = "sim, card-node or host-bridge.")
        String component;

        @Option(names = "--timeout", converter = Converters.DurationConverter.class,
                description = "How long to wait for the link to retrain (default: 30s; 240s for a VM card, which boots).")
        Duration timeout;

        @Option(names = "--card", paramLabel = "K", defaultValue = "0",
                description = "Which card's card-node or host-bridge, in a lab of several cards: 0..N-1 (default: ${DEFAULT-VALUE}).")
        int card;

        @Override
        public Integer call() throws Exception {
            io.cardnet.lab.runtime.Privileges.requireNetAdmin("cardnet lab restart");
            Component c = Component.parse(component);
            Lab l = Lab.attach(lab.name, lab.runRoot, Output::progress);
            l.restart(card, c, timeout != null ? timeout : l.config().healthTimeout());
            System.out.println((card == 0 ? "" : "card " + card + "'s ") + c.displayName() + " restarted; link up");
            return 0;
        }
    }
}
