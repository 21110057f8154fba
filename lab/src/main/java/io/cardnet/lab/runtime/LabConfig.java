package io.cardnet.lab.runtime;

import io.cardnet.link.port.ChecksumMode;
import io.cardnet.link.protocol.Liveness;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything {@code cardnet lab up} is started with, in one place.
 *
 * @param name          the lab's name; namespaces are cardnet-NAME-card, -wire and (isolated) -host
 * @param isolated      put the host side in its own namespace instead of the caller's
 * @param csum          checksum mode on the link
 * @param addresses     link and wire addressing
 * @param liveness      heartbeat contract on the bus
 * @param corruptEvery  test switch: the simulator flips every Nth TCP checksum toward the host (0 = off)
 * @param metricsPorts  /metrics ports of the simulator, host-bridge and card-node
 * @param runRoot       parent of the lab's run directory (sockets, logs, state)
 * @param healthTimeout how long {@code up} waits for the link to train
 * @param sharedMemory  packets in shared DMA memory (/dev/shm/cardnet-NAME) rather than inside frames
 * @param linkModel     the bus's model at start: unlimited or genGxL
 * @param offload       checksum and TSO offload on toe0 and host0 (false: a plain NIC)
 * @param firmware      the firmware directory the card boots (images/card-firmware/<version>), or null for
 *                      card-node's built-in defaults
 * @param runtime       the card as a namespace on this kernel, or as a virtual machine with its own
 * @param vm            the card VM's machine (used by the VM runtime only)
 * @param queues        queue pairs of toe0 and host0 (1..8), each with its own bus thread, rings, credits and
 *                      doorbells; the link runs them on the direct rings, else one
 * @param busyPoll      the longest adaptive-polling window of both ends on the direct rings; zero never polls
 * @param export        a host directory served read-only to the card over the bus (host-bridge, on toe0's address);
 *                      the card's httpd serves it on the wire. Null: neither runs
 * @param relay         the card's TCP relay: on, off or as the firmware says, and its connection limit
 * @param cards         how many cards the host has (toe0..toe(N-1), each its own card and link; card 0 is the lab's
 *                      one card of before) and the switch upstream they share, if any
 */
public record LabConfig(String name, boolean isolated, ChecksumMode csum, LabAddresses addresses, Liveness liveness,
                        int corruptEvery, MetricsPorts metricsPorts, Path runRoot, Duration healthTimeout,
                        boolean sharedMemory, String linkModel, boolean offload, Path firmware, LabRuntime runtime,
                        io.cardnet.lab.runtime.vm.VmSettings vm, int queues, Duration busyPoll, Path export,
                        Relay relay, Cards cards) {

    public static final Path RUN_ROOT = Path.of("/run/cardnet");
    /** tmpfs, so DMA regions live in memory (this machine's /run is on disk). */
    public static final Path DMA_ROOT = Path.of("/dev/shm");
    public static final String DEFAULT_NAME = "lab";
    /**
     * A card VM's bus end is a JVM in an emulated CPU: under TCG its pauses (JIT, GC, a busy host) outlast the
     * netns card's 5 × 100 ms, so both ends of a VM lab allow 30 missed heartbeats. A killed VM is still noticed
     * at once: its socket closes.
     */
    public static final Liveness VM_LIVENESS = new Liveness(Duration.ofMillis(100), 30);
    /** TCG boots the card's kernel and JVM in about 30 s here; the lab waits up to this long for its link. */
    public static final Duration VM_HEALTH_TIMEOUT = Duration.ofSeconds(240);

    public LabConfig {
        Objects.requireNonNull(csum, "csum");
        Objects.requireNonNull(addresses, "addresses");
        Objects.requireNonNull(liveness, "liveness");
        Objects.requireNonNull(metricsPorts, "metricsPorts");
        Objects.requireNonNull(runRoot, "runRoot");
        Objects.requireNonNull(healthTimeout, "healthTimeout");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(vm, "vm");
        requireValidName(name);
        if (queues < 1 || queues > io.cardnet.link.port.BusPortConfig.MAX_QUEUES) {
            throw new IllegalArgumentException("--queues must be 1.." + io.cardnet.link.port.BusPortConfig.MAX_QUEUES
                    + ", was " + queues);
        }
        Objects.requireNonNull(busyPoll, "busyPoll");
        Objects.requireNonNull(relay, "relay");
        Objects.requireNonNull(cards, "cards");
        if (cards.pair() && runtime != LabRuntime.NETNS) {
            throw new IllegalArgumentException("--pair runs on the netns runtime only: the " + runtime.id() + " runtime"
                    + " has no failover pair (its cards' namespaces are not this kernel's to fence and sync); use"
                    + " --runtime netns");
        }
        if (cards.count() > 1) {
            if (runtime != LabRuntime.NETNS) {
                // each card VM boots its own kernel and card-node's JVM under TCG (no nested KVM here): 43-48 s for
                // one, and N of them share the same 2 cores
                throw new IllegalArgumentException("--cards " + cards.count() + ": the " + runtime.id() + " runtime runs"
                        + " one card for now (each card VM boots its own kernel and JVM, 43-48 s under TCG here, and N"
                        + " of them would share the same cores); several cards run with --runtime netns or compose");
            }
            if (export != null) {
                throw new IllegalArgumentException("--export serves one card for now; leave it out with --cards "
                        + cards.count());
            }
            LabAddresses.requireDisjoint(addresses, cards.count());
        }
        if (busyPoll.isNegative() || busyPoll.compareTo(io.cardnet.link.port.BusPortConfig.MAX_BUSY_POLL) > 0) {
            throw new IllegalArgumentException("--busy-poll must be 0.."
                    + io.cardnet.link.port.BusPortConfig.MAX_BUSY_POLL.toNanos() / 1000 + " µs, was "
                    + busyPoll.toNanos() / 1000);
        }
        io.cardnet.link.model.LinkProfile.parse(linkModel);
        if (corruptEvery < 0) {
            throw new IllegalArgumentException("corrupt-every must be 0 (off) or positive");
        }
    }

    /** The configuration as before there was an export or a relay setting: none, and the firmware's relay. */
    public LabConfig(String name, boolean isolated, ChecksumMode csum, LabAddresses addresses, Liveness liveness,
                     int corruptEvery, MetricsPorts metricsPorts, Path runRoot, Duration healthTimeout,
                     boolean sharedMemory, String linkModel, boolean offload, Path firmware, LabRuntime runtime,
                     io.cardnet.lab.runtime.vm.VmSettings vm, int queues, Duration busyPoll) {
        this(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, sharedMemory,
                linkModel, offload, firmware, runtime, vm, queues, busyPoll, null, Relay.FIRMWARE);
    }

    /** The configuration as before a lab could have several cards: one. */
    public LabConfig(String name, boolean isolated, ChecksumMode csum, LabAddresses addresses, Liveness liveness,
                     int corruptEvery, MetricsPorts metricsPorts, Path runRoot, Duration healthTimeout,
                     boolean sharedMemory, String linkModel, boolean offload, Path firmware, LabRuntime runtime,
                     io.cardnet.lab.runtime.vm.VmSettings vm, int queues, Duration busyPoll, Path export, Relay relay) {
        this(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, sharedMemory,
                linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, Cards.ONE);
    }

    public LabConfig withCards(Cards v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, v);
    }

    /** Where card {@code k} of this lab lives: its addresses, names, directories and ports (card 0: the lab's card). */
    public LabCard card(int k) {
        if (k < 0 || k >= cards.count()) {
            throw new IllegalArgumentException("card " + k + " does not exist: lab '" + name + "' has " + cards.count()
                    + (cards.count() == 1 ? " card (--card 0)" : " cards (--card 0.." + (cards.count() - 1) + ")"));
        }
        return LabCard.of(this, k);
    }

    /** Every card of this lab, card 0 first. */
    public java.util.List<LabCard> allCards() {
        return java.util.stream.IntStream.range(0, cards.count()).mapToObj(this::card).toList();
    }

    public LabConfig withExport(Path v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, v, relay, cards);
    }

    /** The card httpd's cache: tmpfs, i.e. memory, like the DMA regions; removed with the lab. */
    public Path httpdCacheDir() {
        return DMA_ROOT.resolve("cardnet-" + name + "-httpd");
    }

    public static void requireValidName(String name) {
        if (name == null || !name.matches("[a-z0-9][a-z0-9-]{0,19}")) {
            throw new IllegalArgumentException("lab name '" + name
                    + "' must be 1..20 characters of a-z, 0-9 and '-', starting with a letter or digit");
        }
    }

    /** Defaults for a lab of this name: the design's addresses, unnecessary checksums, standard ports. */
    public static LabConfig defaults(String name) {
        return new LabConfig(name, false, ChecksumMode.UNNECESSARY, LabAddresses.DEFAULT, Liveness.DEFAULT, 0,
                MetricsPorts.DEFAULT, RUN_ROOT, Duration.ofSeconds(30), true, "unlimited", true,
                FirmwareCatalog.defaultFirmware(), LabRuntime.NETNS, io.cardnet.lab.runtime.vm.VmSettings.DEFAULT,
                defaultQueues(), Duration.ZERO, null, Relay.FIRMWARE, Cards.ONE);
    }

    /**
     * This lab with its card in {@code r}; a VM card also gets the VM's heartbeat allowance and link deadline
     * where this configuration still has the netns defaults.
     */
    public LabConfig withRuntime(LabRuntime r) {
        LabConfig c = new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot,
                healthTimeout, sharedMemory, linkModel, offload, firmware, r, vm, queues, busyPoll, export, relay, cards);
        if (r == LabRuntime.VM) {
            if (liveness.equals(Liveness.DEFAULT)) {
                c = c.withLiveness(VM_LIVENESS);
            }
            if (healthTimeout.compareTo(VM_HEALTH_TIMEOUT) < 0) {
                c = c.withHealthTimeout(VM_HEALTH_TIMEOUT);
            }
        }
        return c;
    }

    public LabConfig withVm(io.cardnet.lab.runtime.vm.VmSettings v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot,
                healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, v, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withLiveness(Liveness v) {
        return new LabConfig(name, isolated, csum, addresses, v, corruptEvery, metricsPorts, runRoot,
                healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withIsolated(boolean v) {
        return new LabConfig(name, v, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withCsum(ChecksumMode v) {
        return new LabConfig(name, isolated, v, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withCorruptEvery(int v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, v, metricsPorts, runRoot, healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withAddresses(LabAddresses v) {
        return new LabConfig(name, isolated, csum, v, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withMetricsPorts(MetricsPorts v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, v, runRoot, healthTimeout, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withHealthTimeout(Duration v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, v, sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withSharedMemory(boolean v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout, v, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withLinkModel(String v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, v, offload, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withOffload(boolean v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, v, firmware, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withFirmware(Path v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, v, runtime, vm, queues, busyPoll, export, relay, cards);
    }

    public LabConfig withBusyPoll(Duration v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, firmware, runtime, vm, queues, v, export, relay, cards);
    }

    public LabConfig withRelay(Relay v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, firmware, runtime, vm, queues, busyPoll, export, v, cards);
    }

    public LabConfig withQueues(int v) {
        return new LabConfig(name, isolated, csum, addresses, liveness, corruptEvery, metricsPorts, runRoot, healthTimeout,
                sharedMemory, linkModel, offload, firmware, runtime, vm, v, busyPoll, export, relay, cards);
    }

    /**
     * One queue pair per core, as virtio-net and multi-queue NIC drivers default to, at most
     * {@link io.cardnet.link.port.BusPortConfig#MAX_QUEUES}.
     */
    public static int defaultQueues() {
        return Math.min(Runtime.getRuntime().availableProcessors(), io.cardnet.link.port.BusPortConfig.MAX_QUEUES);
    }

    public Path runDir() {
        return runRoot.resolve(name);
    }

    /** Where the simulator keeps this lab's DMA regions. */
    public Path dmaDir() {
        return DMA_ROOT.resolve("cardnet-" + name);
    }

    /** /metrics ports: simulator and host-bridge on the host side's loopback, card-node on the card's addresses. */
    public record MetricsPorts(int sim, int hostBridge, int card) {
        public static final MetricsPorts DEFAULT = new MetricsPorts(9470, 9471, 9472);
    }

    /**
     * How many cards the host has, and the PCIe switch they sit behind.
     *
     * @param count    1..{@link #MAX}: toe0..toe(N-1) on the host, card K in its own namespace with its own link
     * @param upstream the switch's upstream link (genGxL) every card's link shares, or null: no shared upstream
     * @param pair     cards 0 and 1 are an active/standby pair for one wire network and one wire identity
     *                 (docs/architecture.md, "Failover pairs"); needs exactly two cards
     */
    public record Cards(int count, String upstream, boolean pair) {
        /** Eight cards fill a 2-core machine many times over; the address plan has room for 64. */
        public static final int MAX = 8;
        public static final Cards ONE = new Cards(1, null);

        public Cards(int count, String upstream) {
            this(count, upstream, false);
        }

        public Cards {
            if (pair && count != 2) {
                throw new IllegalArgumentException("--pair makes cards 0 and 1 an active/standby pair: give --cards 2"
                        + " (was --cards " + count + ")");
            }
            if (count < 1 || count > MAX) {
                throw new IllegalArgumentException("--cards must be 1.." + MAX + ", was " + count);
            }
            if (upstream != null && !io.cardnet.link.model.LinkProfile.parse(upstream).paced()) {
                throw new IllegalArgumentException("--upstream takes a paced model genGxL (e.g. gen3x4), not '"
                        + upstream + "'");
            }
        }
    }

    /**
     * The card's TCP relay at lab start.
     *
     * @param on             true/false to turn it on/off whatever the firmware says; null: the firmware's
     *                       {@code relay} service decides
     * @param maxConnections connections the relay holds at once before it refuses with a RST
     * @param move           how the relay moves bytes: splice(2) in the card's kernel (the default) or copied
     */
    public record Relay(Boolean on, int maxConnections, io.cardnet.card.relay.RelayMove move) {
        public static final Relay FIRMWARE = new Relay(null, io.cardnet.card.relay.RelayConfig.DEFAULT_MAX_CONNECTIONS);

        public Relay {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("--relay-max-connections must be at least 1, was " + maxConnections);
            }
            java.util.Objects.requireNonNull(move, "move");
        }

        /** Bytes moved the default way, by splice(2). */
        public Relay(Boolean on, int maxConnections) {
            this(on, maxConnections, io.cardnet.card.relay.RelayMove.SPLICE);
        }

        /** card-node's options for this setting (none when the firmware decides with the default limit). */
        public java.util.List<String> cardNodeArgs() {
            java.util.List<String> a = new java.util.ArrayList<>();
            if (on != null) {
                a.addAll(java.util.List.of("--relay", on ? "on" : "off"));
            }
            if (maxConnections != FIRMWARE.maxConnections()) {
                a.addAll(java.util.List.of("--relay-max-connections", Integer.toString(maxConnections)));
            }
            if (move != FIRMWARE.move()) {
                a.addAll(java.util.List.of("--relay-move", move.option()));
            }
            return a;
        }
    }
}
