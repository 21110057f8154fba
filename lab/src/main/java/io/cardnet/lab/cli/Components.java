package io.cardnet.lab.cli;

import io.cardnet.card.CardNode;
import io.cardnet.card.CardNodeConfig;
import io.cardnet.hostbridge.HostBridge;
import io.cardnet.hostbridge.HostBridgeConfig;
import io.cardnet.link.metrics.MetricsServer;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.link.port.EndpointAddress;
import io.cardnet.link.port.TunEndConfig;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.sim.LinkSimulator;
import io.cardnet.link.sim.SimulatorConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The lab's three processes as commands. `cardnet lab up` starts them for you; run them by hand to put a
 * component elsewhere (e.g. the card on another machine over --bus tcp:HOST:PORT).
 */
final class Components {
    private Components() {
    }

    /** Options every end of the bus shares. */
    static final class BusOptions {
        @Option(names = "--heartbeat", defaultValue = "100ms", converter = Converters.DurationConverter.class,
                description = "Send a heartbeat after this long without traffic (default: ${DEFAULT-VALUE}).")
        Duration heartbeat;

        @Option(names = "--heartbeat-misses", defaultValue = "5",
                description = "Declare the other side gone after this many missed heartbeats (default: ${DEFAULT-VALUE}).")
        int misses;

        Liveness liveness() {
            return new Liveness(heartbeat, misses);
        }
    }

    /** Runs until SIGTERM or Ctrl-C, then closes the component. */
    static int runUntilStopped(String name, AutoCloseable component) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            long start = System.nanoTime();
            System.out.println("cardnet: " + name + " stopping");
            try {
                component.close();
            } catch (Exception e) {
                System.out.println("cardnet: " + name + " did not close cleanly: " + e);
            }
            System.out.printf("cardnet: %s stopped in %d ms%n", name, (System.nanoTime() - start) / 1_000_000);
            System.out.flush();
            stopped.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stopped.await();
        return 0;
    }

    @Command(name = "sim", mixinStandardHelpOptions = true,
            description = "Run pci-link-sim, the bus: a port for the host (root complex) and one for the card (endpoint). Descriptors cross from one port to the other once both ends have trained.",
            footer = {"", "Example:", "  cardnet sim --host-port unix:/tmp/b/host.sock --card-port unix:/tmp/b/card.sock --control /tmp/b/control.sock"})
    static final class Sim implements Callable<Integer> {
        @Option(names = "--host-port", required = true, description = "Where host-bridge attaches: unix:PATH or tcp:HOST:PORT.")
        String hostPort;

        @Option(names = "--card-port", required = true, description = "Where card-node attaches: unix:PATH or tcp:HOST:PORT.")
        String cardPort;

        @Option(names = "--control", description = "Control socket (owner-only) for `cardnet lab status`.")
        Path control;

        @Option(names = "--metrics", defaultValue = "127.0.0.1:9470", description = "HOST:PORT for /metrics (default: ${DEFAULT-VALUE}).")
        String metrics;

        @Option(names = "--model", defaultValue = "unlimited",
                description = "The link model to start with: unlimited, or genGxL (e.g. gen3x4); `cardnet link set` changes it later (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(names = "--dma", paramLabel = "DIR",
                description = "Create the shared-memory DMA regions here (a tmpfs directory, e.g. /dev/shm/cardnet-lab):"
                        + " packets then stay in memory all three processes map, and only descriptors cross the sockets.")
        Path dma;

        @Option(names = "--queues", defaultValue = "8", paramLabel = "N",
                description = "The most queue pairs a link may run (1..8), each with its own direct rings and doorbells"
                        + " (default: ${DEFAULT-VALUE}); the ends' --queues decide how many they use.")
        int queues;

        @Option(names = "--test-corrupt-tcp-csum-to-host", defaultValue = "0", paramLabel = "N",
                description = "Test switch: flip the TCP checksum of every Nth TCP packet toward the host (0 = off).")
        int corruptEvery;

        @Option(names = "--extra-card", paramLabel = "host=ADDR,card=ADDR,control=PATH,dma=DIR,metrics=HOST:PORT",
                description = "Another card's link in this process (repeatable; `lab up --cards N` passes one per card"
                        + " after the first): its own ports, control socket, DMA regions and /metrics, the options"
                        + " above apply to it too. dma= may be left out (packets in frames), control= too.")
        List<String> extraCards = new ArrayList<>();

        @Option(names = "--upstream", paramLabel = "MODEL",
                description = "Put every card's link behind one PCIe switch whose upstream link is MODEL (genGxL, e.g."
                        + " gen3x4): together the cards cannot move more than it carries. Descriptors then cross the"
                        + " simulator, where the shared upstream is paced.")
        String upstream;

        @Mixin
        BusOptions bus;

        @Override
        public Integer call() throws Exception {
            List<CardLink> cards = new ArrayList<>();
            cards.add(new CardLink(hostPort, cardPort, control, dma, metrics));
            for (String spec : extraCards) {
                cards.add(CardLink.parse(spec));
            }
            io.cardnet.link.model.UpstreamLink shared = upstream == null ? null
                    : new io.cardnet.link.model.UpstreamLink(io.cardnet.link.model.LinkProfile.parse(upstream));
            var settings = io.cardnet.link.model.LinkSettings.DEFAULT.withProfile(io.cardnet.link.model.LinkProfile.parse(model));
            // One process for every card's link: the shared upstream is then one clock that every card's engines
            // consult, instead of a clock in shared memory that several processes must agree on.
            List<AutoCloseable> open = new ArrayList<>();
            try {
                for (CardLink c : cards) {
                    var addr = Converters.hostPort(c.metrics(), "--metrics");
                    SimulatorConfig cfg = new SimulatorConfig(BusAddress.parse(c.hostPort()), BusAddress.parse(c.cardPort()),
                            c.control(), bus.liveness(), c == cards.getFirst() ? corruptEvery : 0,
                            c.dma(), queues);
                    var registry = MetricsServer.newRegistry("pci-link-sim");
                    open.addFirst(MetricsServer.start(registry, addr.getHostString(), addr.getPort()));
                    open.addFirst(new LinkSimulator(cfg, settings, registry, shared).start());
                }
            } catch (Exception e) {
                closeAll(open);
                throw e;
            }
            return runUntilStopped("pci-link-sim", () -> closeAll(open));
        }

        private static void closeAll(List<AutoCloseable> open) throws Exception {
            for (AutoCloseable c : open) {
                c.close();
            }
        }
    }

    /** One card's link in the simulator: where its ends attach, its control socket, DMA regions and /metrics. */
    record CardLink(String hostPort, String cardPort, Path control, Path dma, String metrics) {
        static CardLink parse(String spec) {
            java.util.Map<String, String> kv = new java.util.LinkedHashMap<>();
            for (String part : spec.split(",")) {
                int eq = part.indexOf('=');
                String key = eq < 0 ? part : part.substring(0, eq);
                if (eq < 0 || !java.util.Set.of("host", "card", "control", "dma", "metrics").contains(key)
                        || kv.put(key, part.substring(eq + 1)) != null) {
                    throw new IllegalArgumentException("--extra-card '" + spec + "': '" + part + "' is not one of host=,"
                            + " card=, control=, dma=, metrics= (each once), e.g. host=unix:/run/x/card1/host.sock,"
                            + "card=unix:/run/x/card1/card.sock,metrics=127.0.0.1:9480");
                }
            }
            for (String required : List.of("host", "card", "metrics")) {
                if (!kv.containsKey(required)) {
                    throw new IllegalArgumentException("--extra-card '" + spec + "' needs " + required + "=");
                }
            }
            return new CardLink(kv.get("host"), kv.get("card"), kv.containsKey("control") ? Path.of(kv.get("control")) : null,
                    kv.containsKey("dma") ? Path.of(kv.get("dma")) : null, kv.get("metrics"));
        }
    }

    /** Options of a TUN end: device, address, bus, checksum mode. */
    static final class EndOptions {
        @Option(names = "--bus", required = true, description = "The simulator port for this end: unix:PATH or tcp:HOST:PORT.")
        String bus;

        @Option(names = "--address", required = true, description = "The device's IPv4 address with prefix, e.g. 198.18.0.1/30.")
        String address;

        @Option(names = "--mtu", defaultValue = "65535", description = "Device MTU (default: ${DEFAULT-VALUE}, the design's 64K MTU).")
        int mtu;

        @Option(names = "--csum", defaultValue = "unnecessary",
                description = "unnecessary: the bus is trusted, no checksum work on the host; verify: full checksums, receiver verifies (default: ${DEFAULT-VALUE}).")
        String csum;

        @Option(names = "--dma", paramLabel = "DIR",
                description = "The simulator's shared-memory DMA regions (its --dma); without it packets travel inside frames.")
        Path dma;

        @Option(names = "--offload", defaultValue = "on",
                description = "on: the kernel hands over partial checksums and 64K TSO packets (the design); off: a plain NIC,"
                        + " the kernel checksums and segments in software (default: ${DEFAULT-VALUE}).")
        String offload;

        @Option(names = "--queues", defaultValue = "1", paramLabel = "N",
                description = "Queue pairs (1..8): the TUN gets N queues (IFF_MULTI_QUEUE), each pumped by a bus thread of"
                        + " its own with its own rings, credits and doorbells; the kernel keeps each flow on one queue."
                        + " The link runs as many as both ends and the simulator offer, on the direct rings; else 1"
                        + " (default: ${DEFAULT-VALUE}).")
        int queues;

        @Option(names = "--busy-poll", defaultValue = "0", paramLabel = "MICROS",
                description = "Adaptive polling on the direct rings, at most MICROS µs (0..1000) after work before the"
                        + " bus thread sleeps; the window follows how dense traffic is (default: ${DEFAULT-VALUE}, never).")
        long busyPollMicros;

        TunEndConfig config(Role role, String device, Liveness liveness) {
            if (queues < 1 || queues > io.cardnet.link.port.BusPortConfig.MAX_QUEUES) {
                throw new IllegalArgumentException("--queues must be 1.." + io.cardnet.link.port.BusPortConfig.MAX_QUEUES
                        + ", was " + queues);
            }
            return new TunEndConfig(role, device, EndpointAddress.parse(address), mtu, BusAddress.parse(bus),
                    ChecksumMode.parse(csum), liveness, dma, Converters.onOff(offload, "--offload"), queues,
                    java.time.Duration.ofNanos(busyPollMicros * 1000));
        }
    }

    @Command(name = "host-bridge", mixinStandardHelpOptions = true,
            description = "Run host-bridge, the root-complex side: creates toe0 in this network namespace (or, with --attach, attaches to the persistent toe0 made for it) and moves its packets across the bus. toe0's carrier follows the link.")
    static final class HostBridgeCmd implements Callable<Integer> {
        @Mixin
        EndOptions end;

        @Option(names = "--device", defaultValue = "toe0", description = "TUN name (default: ${DEFAULT-VALUE}).")
        String device;

        @Option(names = "--route", paramLabel = "SUBNET=VIA",
                description = "Route SUBNET through the card at VIA on the device, e.g. 198.19.0.0/24=198.18.0.2. Repeatable.")
        List<String> routes = new ArrayList<>();

        @Option(names = "--metrics", defaultValue = "127.0.0.1:9471", description = "HOST:PORT for /metrics (default: ${DEFAULT-VALUE}).")
        String metrics;

        @Option(names = "--attach",
                description = "The device exists: a persistent TUN owned by this user (ip tuntap add dev toe0 mode tun vnet_hdr"
                        + " [multi_queue] user UID) with --mtu, --address and routes set and up, as the lab makes it."
                        + " Only attach its queues: host-bridge then needs no capability (no --route).")
        boolean attach;

        @Option(names = "--export", paramLabel = "DIR",
                description = "Serve DIR, read-only over HTTP, to the card only, on the device's address (never on all interfaces): the card's httpd fetches from it.")
        Path export;

        @Option(names = "--export-port", defaultValue = "8081", description = "TCP port of --export (default: ${DEFAULT-VALUE}).")
        int exportPort;

        @Option(names = "--export-client", defaultValue = "198.18.0.2", paramLabel = "IP",
                description = "The only peer --export answers, the card's bus address; others are refused and counted (default: ${DEFAULT-VALUE}).")
        String exportClient;

        @Mixin
        BusOptions bus;

        @Override
        public Integer call() throws Exception {
            List<HostBridgeConfig.Route> rs = new ArrayList<>();
            for (String r : routes) {
                int eq = r.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--route takes SUBNET=VIA, e.g. 198.19.0.0/24=198.18.0.2, not '" + r + "'");
                }
                EndpointAddress.parse(r.substring(0, eq));
                rs.add(new HostBridgeConfig.Route(r.substring(0, eq), r.substring(eq + 1)));
            }
            var addr = Converters.hostPort(metrics, "--metrics");
            TunEndConfig tun = end.config(Role.ROOT_COMPLEX, device, bus.liveness());
            io.cardnet.hostbridge.export.ExportConfig ex = export == null ? null : new io.cardnet.hostbridge.export.ExportConfig(
                    export, tun.address().address(), exportPort, java.net.InetAddress.getByName(exportClient));
            HostBridge hb = HostBridge.start(new HostBridgeConfig(tun, rs, addr.getHostString(), addr.getPort(), ex, attach));
            return runUntilStopped("host-bridge", hb);
        }
    }

    @Command(name = "card-node", mixinStandardHelpOptions = true,
            description = "Run card-node, the card's firmware runtime: creates host0 in this (the card's) network namespace, attaches it to the bus, turns on forwarding and serves the sink and echo services (with --firmware: the firmware's services, the SSH console among them).")
    static final class CardNodeCmd implements Callable<Integer> {
        @Mixin
        EndOptions end;

        @Option(names = "--device", defaultValue = "host0", description = "TUN name (default: ${DEFAULT-VALUE}).")
        String device;

        @Option(names = "--sink-port", defaultValue = "9", description = "TCP sink (discard + count + SHA-256) port, 0 = off (default: ${DEFAULT-VALUE}).")
        int sinkPort;

        @Option(names = "--echo-port", defaultValue = "7", description = "TCP echo port, 0 = off (default: ${DEFAULT-VALUE}).")
        int echoPort;

        @Option(names = "--metrics-port", defaultValue = "9472", description = "/metrics port (default: ${DEFAULT-VALUE}).")
        int metricsPort;

        @Option(names = "--metrics-address", paramLabel = "ADDR",
                description = "The card address /metrics listens on (default: the bus address of --address, which the"
                        + " host reaches and the wire does not); never 0.0.0.0.")
        String metricsAddress;

        @Option(names = "--no-forwarding", description = "Leave IPv4 forwarding off (the card then routes nothing).")
        boolean noForwarding;

        @Option(names = "--httpd-origin", paramLabel = "URL",
                description = "Run the card's web server (httpd), serving the host's export at URL (e.g. http://198.18.0.1:8081) from a cache in card memory.")
        java.net.URI httpdOrigin;

        @Option(names = "--httpd-bind", defaultValue = "0.0.0.0", paramLabel = "IP",
                description = "The card address httpd listens on; `lab up --export` gives the wire address (default: ${DEFAULT-VALUE}).")
        String httpdBind;

        @Option(names = "--httpd-port", defaultValue = "80", description = "httpd's TCP port (default: ${DEFAULT-VALUE}).")
        int httpdPort;

        @Option(names = "--httpd-cache", paramLabel = "DIR",
                description = "httpd's cache directory, on tmpfs (default: /dev/shm/cardnet-httpd-PID); removed when card-node stops.")
        Path httpdCache;

        @Option(names = "--httpd-cache-mib", defaultValue = "1024", description = "The most MiB httpd's cache holds (default: ${DEFAULT-VALUE}).")
        long httpdCacheMib;

        @Option(names = "--httpd-file-max-mib", defaultValue = "256",
                description = "Larger files are fetched per request and not kept (default: ${DEFAULT-VALUE}).")
        long httpdFileMaxMib;

        @Option(names = "--httpd-fresh", defaultValue = "10s", converter = Converters.DurationConverter.class,
                description = "Serve a cached file this long before asking the host (If-None-Match) whether it changed (default: ${DEFAULT-VALUE}).")
        Duration httpdFresh;

        @Option(names = "--firmware", paramLabel = "DIR",
                description = "Boot this firmware directory (images/card-firmware/<version>): its sysctls, nftables"
                        + " ruleset and services replace --sink-port, --echo-port and --no-forwarding.")
        Path firmware;

        @Option(names = "--console-dir", paramLabel = "DIR",
                description = "Where the SSH console (a firmware's `console` service) keeps its host key (host_key,"
                        + " host_key.pub) and its data directory (data/, the SFTP root); keep it across restarts to"
                        + " keep the host key (default: /var/lib/cardnet/console).")
        Path consoleDir;

        @Option(names = "--console-authorized-keys", paramLabel = "FILE",
                description = "An authorized_keys file the console trusts besides the firmware's (the lab's key)."
                        + " Repeatable; read at every login.")
        List<Path> consoleKeys = new ArrayList<>();

        @Option(names = "--ipsec-keys", paramLabel = "FILE",
                description = "The ESP tunnel's keys for a firmware with ipsec: (the lab writes this file, 0600, at each"
                        + " boot of such a firmware; a firmware never ships keys).")
        Path ipsecKeys;

        @Mixin
        RelayOptions relay;

        @Mixin
        BusOptions bus;

        @Override
        public Integer call() throws Exception {
            CardNodeConfig config = new CardNodeConfig(end.config(Role.ENDPOINT, device, bus.liveness()),
                    !noForwarding, sinkPort, echoPort, metricsPort, null, new CardNodeConfig.ConsoleOptions(
                    consoleDir != null ? consoleDir : CardNodeConfig.ConsoleOptions.DEFAULT.stateDir(), consoleKeys),
                    null, metricsAddress, ipsecKeys, null);
            if (firmware != null) {
                config = config.withFirmware(new io.cardnet.card.firmware.FirmwareLoader(
                        io.cardnet.card.firmware.RulesetCheck.NFT_DRY_RUN_HERE).read(firmware));
            }
            if (httpdOrigin != null) {
                config = config.withHttpd(new io.cardnet.card.httpd.HttpdConfig(java.net.InetAddress.getByName(httpdBind),
                        httpdPort, httpdOrigin, httpdCache != null ? httpdCache
                        : Path.of("/dev/shm/cardnet-httpd-" + ProcessHandle.current().pid()),
                        httpdCacheMib << 20, httpdFileMaxMib << 20, httpdFresh));
            }
            var relayDefaults = io.cardnet.card.relay.RelayConfig.defaults(device).withMaxConnections(relay.maxConnections)
                    .withMove(relay.move());
            Boolean relayOn = relay.on();
            if (relayOn != null || config.relay() != null) { // asked for, or the firmware's: with these settings
                config = config.withRelay(relayOn == null || relayOn ? relayDefaults : null);
            }
            CardNode node = CardNode.start(config);
            return runUntilStopped("card-node", node);
        }
    }
}
