package io.cardnet.link.port;

import io.cardnet.netdev.NetInterface;
import io.cardnet.netdev.NetdevException;
import io.cardnet.netdev.Tun;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An end of the link as the kernel sees it: a TUN device with its address and 64K MTU, pumped to and
 * from the bus. host-bridge runs one as toe0, card-node as host0. The device lives as long as this
 * object (a non-persistent TUN vanishes with its file descriptor), so nothing outlives the process.
 */
public final class TunEnd implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TunEnd.class);

    private final Tun tun;
    private final TunPump pump;
    private final BusPort port;
    private final VirtioPortBridge bridge;

    private TunEnd(Tun tun, TunPump pump, BusPort port, VirtioPortBridge bridge) {
        this.tun = tun;
        this.pump = pump;
        this.port = port;
        this.bridge = bridge;
    }

    /** Creates and configures the device in this process's network namespace, then attaches to the bus. */
    public static TunEnd open(TunEndConfig config, MeterRegistry registry) throws NetdevException, java.io.IOException {
        ChecksumPolicy initial = ChecksumPolicy.forFeatures(config.csum().features());
        VirtioPortBridge bridge = null;
        if (config.bus() instanceof io.cardnet.link.protocol.BusAddress.VirtioPort v) {
            // in a card VM: the bus is a virtio-serial port, offered to BusPort as a Unix socket
            bridge = VirtioPortBridge.start(v, java.nio.file.Path.of("/run/cardnet", "bus-" + v.name() + ".sock"));
            config = config.withBus(bridge.address());
        }
        Tun tun;
        try {
            tun = Tun.open(config.device(), config.offload() ? initial.offloads() : java.util.EnumSet.noneOf(Tun.Offload.class));
        } catch (NetdevException | RuntimeException e) {
            if (bridge != null) {
                bridge.close();
            }
            throw e;
        }
        try {
            NetInterface.setMtu(tun.name(), config.mtu());
            NetInterface.setIpv4Address(tun.name(), config.address().address(), config.address().prefix());
            NetInterface.setUp(tun.name(), true);
            TunPump pump = new TunPump(tun, config.role(), config.csum().features(), config.offload(), registry);
            BusPort port = new BusPort(config.busPortConfig(), pump);
            pump.start(port);
            port.start();
            log.info("{} is up at {} (mtu {}, checksums {}), attaching to the bus at {}", tun.name(),
                    config.address(), config.mtu(), config.csum().name().toLowerCase(), config.bus());
            return new TunEnd(tun, pump, port, bridge);
        } catch (NetdevException | RuntimeException e) {
            tun.close();
            if (bridge != null) {
                bridge.close();
            }
            throw e;
        }
    }

    public String deviceName() {
        return tun.name();
    }

    @Override
    public void close() {
        port.close();
        pump.close();
        tun.close();
        if (bridge != null) {
            bridge.close();
        }
    }
}
