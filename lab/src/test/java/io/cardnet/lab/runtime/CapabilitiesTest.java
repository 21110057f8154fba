package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CapabilitiesTest {
    @Test
    void hostBridgeAttachingToTheLabsToeKeepsNothing() {
        assertEquals(Set.of(), Capabilities.kept(Component.HOST_BRIDGE, List.of("--device", "toe0", "--attach")));
        assertEquals(Set.of("dac_read_search"),
                Capabilities.kept(Component.HOST_BRIDGE, List.of("--attach", "--export", "/srv")));
        assertTrue(Capabilities.why(Component.HOST_BRIDGE, List.of("--attach")).contains("persistent"));
    }

    @Test
    void hostBridgeMakingItsOwnToeKeepsNetAdmin() {
        assertEquals(Set.of("net_admin"), Capabilities.kept(Component.HOST_BRIDGE, List.of("--device", "toe0")));
        assertEquals(Set.of("net_admin", "dac_read_search"),
                Capabilities.kept(Component.HOST_BRIDGE, List.of("--export", "/srv")));
        assertTrue(Capabilities.why(Component.HOST_BRIDGE, List.of()).startsWith("net_admin"));
    }

    @Test
    void aMaskDecodesToNamesLowestFirst() {
        assertEquals(List.of("net_admin", "net_raw"), Capabilities.decode((1L << 12) | (1L << 13)));
        assertEquals(List.of("cap_63"), Capabilities.decode(1L << 63));
    }
}
