package io.cardnet.link.port;

import io.cardnet.netdev.NetInterface;
import io.cardnet.netdev.NetdevException;
import io.cardnet.netdev.Tun;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * An end of the link as the kernel sees it: a TUN device with its address and 64K MTU, pumped to and
 * from the bus. host-bridge runs one as toe0, card-node as host0.
 *
 * <p>{@link #open} creates and configures the device, which lives as long as this object (a non-persistent TUN
 * vanishes with its file descriptors), so nothing outlives the process; that needs CAP_NET_ADMIN. {@link #attach}
 * takes a persistent TUN someone else made, addressed and brought up (the lab's toeK, owned by this process's uid):
 * it only attaches the queues, which the kernel lets the owner do without any capability, checks the device is as
 * configured, and leaves it behind for its maker to remove.
 */
public final class TunEnd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TunEnd.class);

    private final List<Tun> tuns;
    private final List<TunPump> pumps;
    private final BusPort port;
    private final VirtioPortBridge bridge;

    private TunEnd(List<Tun> tuns, List<TunPump> pumps, BusPort port, VirtioPortBridge bridge) {
        this.tuns = tuns;
        this.pumps = pumps;
        this.port = port;
        this.bridge = bridge;
    }

    /** Creates and configures the device in this process's network namespace, then attaches to the bus. */
    public static TunEnd open(TunEndConfig config, MeterRegistry registry) throws NetdevException, java.io.IOException {
        return open(config, registry, false);
    }

    /**
     * Attaches to the persistent device {@code config.device()} that its maker already configured as {@code config}
     * says (MTU, address, up), then to the bus; changes nothing that needs CAP_NET_ADMIN.
     */
    public static TunEnd attach(TunEndConfig config, MeterRegistry registry) throws NetdevException, java.io.IOException {
        try {
            NetInterface.index(config.device());
        } catch (NetdevException e) {
            throw new NetdevException("attach " + config.device(), e.errno(), "no device " + config.device()
                    + " in this network namespace: attaching needs it made first, persistent and owned by this user"
                    + " (ip tuntap add dev " + config.device() + " mode tun vnet_hdr"
                    + (config.queues() > 1 ? " multi_queue" : "") + " user UID), with its MTU, address and up");
        }
        return open(config, registry, true);
    }

    private static TunEnd open(TunEndConfig config, MeterRegistry registry, boolean attach)
            throws NetdevException, java.io.IOException {
        ChecksumPolicy initial = ChecksumPolicy.forFeatures(config.csum().features());
        VirtioPortBridge bridge = null;
        if (config.bus() instanceof io.cardnet.link.protocol.BusAddress.VirtioPort v) {
            // in a card VM: the bus is a virtio-serial port, offered to BusPort as a Unix socket
            bridge = VirtioPortBridge.start(v, java.nio.file.Path.of("/run/cardnet", "bus-" + v.name() + ".sock"));
            config = config.withBus(bridge.address());
        }
        List<Tun> tuns;
        var offloads = config.offload() ? initial.offloads() : java.util.EnumSet.noneOf(Tun.Offload.class);
        try {
            tuns = config.queues() == 1 ? List.of(Tun.open(config.device(), offloads))
                    : Tun.openQueues(config.device(), config.queues(), offloads);
        } catch (NetdevException | RuntimeException e) {
            if (bridge != null) {
                bridge.close();
            }
            throw e;
        }
        try {
            String name = tuns.getFirst().name();
            if (attach) {
                requireConfigured(name, config);
            } else {
                NetInterface.setMtu(name, config.mtu());
                NetInterface.setIpv4Address(name, config.address().address(), config.address().prefix());
                NetInterface.setUp(name, true);
            }
            List<TunPump> pumps = new ArrayList<>();
            for (int q = 0; q < tuns.size(); q++) {
                pumps.add(new TunPump(tuns.get(q), q, tuns.size() > 1, config.role(), config.csum().features(),
                        config.offload(), registry));
            }
            BusPort port = new BusPort(config.busPortConfig(), pumps::get);
            for (int q = 0; q < pumps.size(); q++) {
                pumps.get(q).start(port, port.queue(q));
            }
            port.start();
            log.info("{} is up at {} (mtu {}, checksums {}, {} queue{}), attaching to the bus at {}", name,
                    config.address(), config.mtu(), config.csum().name().toLowerCase(), tuns.size(),
                    tuns.size() == 1 ? "" : "s", config.bus());
            return new TunEnd(tuns, pumps, port, bridge);
        } catch (NetdevException | RuntimeException e) {
            tuns.forEach(Tun::close);
            if (bridge != null) {
                bridge.close();
            }
            throw e;
        }
    }

    /** An attached device must already be what this end expects: its maker set it, this end cannot. */
    private static void requireConfigured(String name, TunEndConfig config) throws NetdevException {
        List<String> wrong = new ArrayList<>();
        int mtu = NetInterface.mtu(name);
        if (mtu != config.mtu()) {
            wrong.add("MTU " + mtu + ", not " + config.mtu());
        }
        String address = NetInterface.ipv4Address(name);
        if (!config.address().toString().equals(address)) {
            wrong.add("address " + (address == null ? "none" : address) + ", not " + config.address());
        }
        if (!NetInterface.isUp(name)) {
            wrong.add("down, not up");
        }
        if (!wrong.isEmpty()) {
            throw new NetdevException("attach " + name, 22, name + " is " + String.join(", ", wrong)
                    + ": whoever made it configures it (attaching changes nothing that needs CAP_NET_ADMIN)");
        }
    }

    public String deviceName() {
        return tuns.getFirst().name();
    }

    @Override
    public void close() {
        port.close();
        pumps.forEach(TunPump::close);
        tuns.forEach(Tun::close);
        if (bridge != null) {
            bridge.close();
        }
    }
}
