package io.cardnet.lab.runtime;

import io.cardnet.hostbridge.HostBridgeConfig;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.link.port.EndpointAddress;
import io.cardnet.link.port.TunEndConfig;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Role;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An attaching host-bridge holds no net_admin, so it is given no route to add: the device's maker adds them. */
class HostBridgeAttachTest {
    @Test
    void anAttachingHostBridgeRefusesRoutesNamingWhoAddsThem() {
        TunEndConfig end = new TunEndConfig(Role.ROOT_COMPLEX, "toe0", EndpointAddress.parse("198.18.0.1/30"),
                TunEndConfig.MTU_64K, BusAddress.parse("unix:/run/cardnet/x/host.sock"), ChecksumMode.UNNECESSARY,
                Liveness.DEFAULT, null, true);
        var route = List.of(new HostBridgeConfig.Route("198.19.0.0/24", "198.18.0.2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HostBridgeConfig(end, route, "127.0.0.1", 0, null, true));
        assertTrue(e.getMessage().contains("CAP_NET_ADMIN") && e.getMessage().contains("the lab"), e.getMessage());
        new HostBridgeConfig(end, route, "127.0.0.1", 0, null, false);
        new HostBridgeConfig(end, List.of(), "127.0.0.1", 0, null, true);
    }
}
