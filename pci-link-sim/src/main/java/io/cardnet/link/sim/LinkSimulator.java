package io.cardnet.link.sim;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.BusTransport;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.model.LinkSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * pci-link-sim: the bus between the host's root complex and the card's endpoint. Two ports, one per end;
 * descriptors from one end go to the other while the link is up. Everything runs on one event loop
 * thread, so a descriptor crosses from one socket to the other without a thread hand-off.
 */
public final class LinkSimulator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LinkSimulator.class);
    /** Per-channel outbound buffer bounds: above high the sending end is paused, below low it resumes. */
    private static final WriteBufferWaterMark RING = new WriteBufferWaterMark(512 * 1024, 2 * 1024 * 1024);

    private final SimulatorConfig config;
    private final SimMetrics metrics;

    SimMetrics metrics() {
        return metrics;
    }
    private final Link link;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Map<Direction, DmaEngine> engines = new EnumMap<>(Direction.class);
    private final Map<Direction, DmaRegion> regions = new EnumMap<>(Direction.class);
    private final List<Channel> servers = new ArrayList<>();
    private volatile LinkSettings settings;
    private volatile BusTap tap = BusTap.NONE;
    private final io.cardnet.link.model.UpstreamLink upstream;
    /** The shared descriptor rings, when there are DMA regions and the machine can make the doorbells. */
    private final DirectRings direct;
    private ControlServer control;

    public LinkSimulator(SimulatorConfig config, MeterRegistry registry) {
        this(config, LinkSettings.DEFAULT, registry);
    }

    public LinkSimulator(SimulatorConfig config, LinkSettings settings, MeterRegistry registry) {
        this(config, settings, registry, null);
    }

    /**
     * One card's link; {@code upstream} (null for none) is the switch's upstream link it shares with the other cards
     * this process simulates. Each card's link keeps its own bus thread, so a second card costs the first nothing
     * but the shared clock's lock.
     */
    public LinkSimulator(SimulatorConfig config, LinkSettings settings, MeterRegistry registry,
                         io.cardnet.link.model.UpstreamLink upstream) {
        this.config = config;
        this.upstream = upstream;
        this.settings = settings;
        this.metrics = new SimMetrics(registry);
        this.group = BusTransport.newGroup(1, "bus");
        this.loop = group.next();
        try {
            if (config.dmaDir() != null) {
                for (Direction d : Direction.values()) {
                    regions.put(d, DmaRegion.create(config.dmaDir().resolve(d.tag() + ".dma")));
                }
            }
        } catch (java.io.IOException e) {
            regions.values().forEach(DmaRegion::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new java.io.UncheckedIOException(e);
        }
        this.direct = regions.isEmpty() ? null : DirectRings.create(config.dmaDir(), config.queues(), metrics, loop);
        if (direct != null) {
            direct.profile(settings.profile());
        }
        this.link = new Link(metrics, loop, () -> this.settings.ringDepth(), this::supportedFeatures,
                () -> direct == null ? 1 : direct.queues());
        for (Direction d : Direction.values()) {
            // The corrupt-checksum test switch acts on packets toward the host only.
            ChecksumCorruptor corruptor = new ChecksumCorruptor(d == Direction.C2H ? config.corruptTcpChecksumToHostEvery() : 0);
            DmaEngine e = new DmaEngine(d, link, metrics, loop, settings, corruptor, regions.get(d),
                    (dir, data, slot) -> tap.record(dir, data, slot));
            e.upstream(upstream);
            engines.put(d, e);
            Gauge.builder("cardnet.ring.occupancy", e, x -> x.occupancy() + (direct == null ? 0 : direct.occupancy(d)))
                    .description("descriptors posted and not yet completed").tag("direction", d.tag()).register(registry);
        }
        engines.get(Direction.H2C).opposite(engines.get(Direction.C2H));
        engines.get(Direction.C2H).opposite(engines.get(Direction.H2C));
        link.listener(up -> {
            engines.values().forEach(DmaEngine::reset);
            if (up && direct != null) {
                direct.reset(link.current().epoch(), link.current().ringDepth());
            }
            if (up) {
                for (Role r : Role.values()) {
                    Link.End end = link.end(r);
                    PortHandler h = end == null ? null : end.channel().pipeline().get(PortHandler.class);
                    if (h != null) {
                        h.resetSequence();
                    }
                }
            }
        });
        Gauge.builder("cardnet.link.state", link, l -> l.state().code())
                .description("link state: 0 down, 1 detect, 2 training, 3 up").register(registry);
    }

    /**
     * What this simulator can carry now: no shared memory without DMA regions, and the direct rings only while
     * nothing needs the simulator on the per-descriptor path (the ends can apply the link model, no capture, no
     * checksum-corrupting test switch).
     */
    private long supportedFeatures() {
        long mask = -1L;
        if (regions.isEmpty()) {
            mask &= ~(Features.SHARED_MEMORY | Features.DIRECT_RING);
        }
        if (!directEligible()) {
            mask &= ~Features.DIRECT_RING;
        }
        return mask;
    }

    private boolean directEligible() {
        // A shared upstream is paced where every card's descriptors meet: here, not at the cards' own ends.
        return direct != null && upstream == null && settings.endsApplyModel() && tap == BusTap.NONE
                && config.corruptTcpChecksumToHostEvery() == 0;
    }

    /**
     * The link runs direct but must not any more (or could and does not): retrain, a flap of 0 ms, so the ends
     * learn the new way in LINK_UP. Only the features in force change; no end is told anything else.
     */
    private void retrainIfPathChanged() {
        var up = link.current();
        if (up != null && Features.has(up.features(), Features.DIRECT_RING) != directEligible()) {
            link.flap(0);
        }
    }

    /** The settings in force. */
    public LinkSettings settings() {
        return settings;
    }

    /** The longest {@link #apply} waits for a retrain it started to bring the link up again. */
    private static final long RETRAIN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /**
     * Applies new settings at once, without a restart. A new ring depth needs new credits, so it retrains
     * the link (a flap of 0 ms); so does a change of path (direct rings or the simulator's engines); everything
     * else takes effect on the next descriptor. After a retrain it returns once the link is up again (both ends
     * let go of the old epoch and trained again, see {@link Link}; a few milliseconds), or after
     * {@link #RETRAIN_WAIT_NANOS} if an end does not answer, so a `link set` answers when its change is in force.
     */
    public LinkSettings apply(LinkSettings next) {
        boolean[] retraining = {false};
        LinkSettings applied = onBus(() -> {
            boolean wasUp = link.state() == LinkState.UP;
            boolean retrain = next.ringDepth() != settings.ringDepth();
            settings = next;
            engines.values().forEach(e -> e.settings(next));
            if (direct != null) {
                // the ends' transmitters pace by it from their next burst on: no retrain
                direct.profile(next.profile());
            }
            if (retrain) {
                link.flap(0);
            } else {
                retrainIfPathChanged();
            }
            retraining[0] = wasUp && link.state() != LinkState.UP;
            return next;
        });
        if (retraining[0]) {
            long deadline = System.nanoTime() + RETRAIN_WAIT_NANOS;
            while (onBus(() -> link.state() != LinkState.UP) && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return applied;
    }

    /** Injects a one-shot fault: STALL (per direction), FLAP or SURPRISE_REMOVAL, lasting {@code millis}. */
    public void inject(FaultKind kind, Direction direction, long millis) {
        onBus(() -> {
            switch (kind) {
                case STALL -> {
                    engines.get(direction).stall(millis);
                    if (direct != null) {
                        direct.stall(direction, millis);
                    }
                }
                case FLAP -> link.flap(millis);
                case SURPRISE_REMOVAL -> link.surpriseRemove(millis);
                default -> throw new IllegalArgumentException(kind.cliName()
                        + " is set with a probability (cardnet link fault " + kind.cliName() + " --probability P)");
            }
            if (kind != FaultKind.STALL) {
                metrics.faultInjected(direction, kind);
            }
            return null;
        });
    }

    /** Sets the tap every delivered descriptor passes (capture); {@link BusTap#NONE} to stop. */
    void tap(BusTap next) {
        this.tap = next;
        // a capture sees what crosses the simulator: while it runs, descriptors do
        retrainIfPathChanged();
    }

    /** Runs {@code work} on the bus thread and returns its result; rethrows its IllegalArgumentException. */
    <T> T onBus(java.util.concurrent.Callable<T> work) {
        try {
            return loop.submit(work).get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IllegalStateException("the bus thread failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("the bus thread did not answer: " + e, e);
        }
    }

    /** Binds both ports (and the control socket); returns once they accept connections. */
    public LinkSimulator start() throws IOException, InterruptedException {
        if (config.corruptTcpChecksumToHostEvery() > 0) {
            log.warn("test switch on: flipping the TCP checksum of every {}th TCP packet toward the host",
                    config.corruptTcpChecksumToHostEvery());
        }
        bind(Role.ROOT_COMPLEX, config.hostPort());
        bind(Role.ENDPOINT, config.cardPort());
        if (config.controlSocket() != null) {
            control = new ControlServer(config.controlSocket(), this).start();
        }
        return this;
    }

    private void bind(Role role, BusAddress address)
            throws IOException, InterruptedException {
        if (address instanceof BusAddress.Unix u) {
            Files.createDirectories(u.path().toAbsolutePath().getParent());
            Files.deleteIfExists(u.path());
        }
        long idleMillis = config.heartbeat().interval().toMillis();
        long deadMillis = config.heartbeat().deadline().toMillis();
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(BusTransport.serverChannel(address))
                .childOption(io.netty.channel.ChannelOption.WRITE_BUFFER_WATER_MARK, RING)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(
                                new IdleStateHandler(deadMillis, idleMillis, 0, TimeUnit.MILLISECONDS),
                                new FrameDecoder(),
                                FrameEncoder.INSTANCE,
                                new PortHandler(role, link, metrics, engines::get));
                    }
                });
        try {
            servers.add(b.bind(BusTransport.socketAddress(address)).sync().channel());
        } catch (Exception e) {
            throw new IOException("cannot listen on the " + role.description() + " port " + address + ": "
                    + e.getMessage() + " (another simulator running? see `cardnet lab status`)", e);
        }
        log.info("{} port listening on {}", role.shortName(), address);
    }

    public SimulatorConfig config() {
        return config;
    }

    /** A consistent snapshot of the link, taken on the bus thread. */
    public LinkStatus status() {
        return onBus(this::snapshot);
    }

    /** The status, for code already on the bus thread. */
    LinkStatus snapshotOnBus() {
        return snapshot();
    }

    /** True while a capture holds the tap (one capture at a time). */
    boolean capturing() {
        return tap != BusTap.NONE;
    }

    private LinkStatus snapshot() {
        if (direct != null) {
            direct.sync();
        }
        Map<String, LinkStatus.Port> ports = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            Link.End end = link.end(r);
            BusAddress addr = r == Role.ROOT_COMPLEX ? config.hostPort() : config.cardPort();
            ports.put(r.shortName(), new LinkStatus.Port(addr.toString(), end != null, end != null && end.train() != null));
        }
        Map<String, LinkStatus.Traffic> traffic = new LinkedHashMap<>();
        for (Direction d : Direction.values()) {
            traffic.put(d.tag(), new LinkStatus.Traffic((long) metrics.frames(d), (long) metrics.bytes(d)));
        }
        Map<String, LinkStatus.Traffic> queueTraffic = new LinkedHashMap<>();
        metrics.queueTraffic().forEach((k, v) -> queueTraffic.put(k, new LinkStatus.Traffic(v[0], v[1])));
        var up = link.current();
        return new LinkStatus(link.state().name(), link.since().toString(), link.epoch(),
                up == null ? 0 : up.maxPacket(),
                up == null ? "none" : io.cardnet.link.protocol.Features.describe(up.features()),
                up == null ? 0 : up.queues(), ports, traffic, queueTraffic, metrics.dynamicCounts(),
                (long) metrics.corruptedChecksums.count());
    }

    @Override
    public void close() {
        if (control != null) {
            control.close();
        }
        for (Channel s : servers) {
            s.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (direct != null) {
            direct.close();
        }
        boolean ownRegions = false;
        for (DmaRegion r : regions.values()) {
            r.close();
            if (!r.createdHere()) {
                // made by the lab for a card VM, whose PCI memory it is: the lab removes it
                continue;
            }
            ownRegions = true;
            try {
                Files.deleteIfExists(r.path());
            } catch (IOException e) {
                log.warn("could not remove {}: {}", r.path(), e.toString());
            }
        }
        if (config.dmaDir() != null && ownRegions) {
            try {
                Files.deleteIfExists(config.dmaDir());
            } catch (IOException e) {
                log.warn("could not remove {}: {}", config.dmaDir(), e.toString());
            }
        }
        for (BusAddress a : List.of(config.hostPort(), config.cardPort())) {
            if (a instanceof BusAddress.Unix u) {
                try {
                    Files.deleteIfExists(u.path());
                } catch (IOException e) {
                    log.warn("could not remove {}: {}", u.path(), e.toString());
                }
            }
        }
    }
}
