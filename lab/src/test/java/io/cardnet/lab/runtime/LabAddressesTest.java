package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabAddressesTest {

    @Test
    void defaultsAreTheDesignsAddresses() {
        LabAddresses a = LabAddresses.DEFAULT;
        assertEquals("198.18.0.1/30", a.hostLink().toString());
        assertEquals("198.18.0.2/30", a.cardLink().toString());
        assertEquals("198.19.0.2/24", a.cardWire().toString());
        assertEquals("198.19.0.1/24", a.peerWire().toString());
        assertEquals("198.19.0.0/24", a.wireSubnet());
        assertEquals("198.18.0.0/30", a.linkSubnet());
    }

    @Test
    void otherSubnetsInsideTheBenchmarkBlockAreNumberedTheSameWay() {
        LabAddresses a = LabAddresses.of("198.18.5.8/30", "198.19.7.0/28");
        assertEquals("198.18.5.9/30", a.hostLink().toString());
        assertEquals("198.18.5.10/30", a.cardLink().toString());
        assertEquals("198.19.7.1/28", a.peerWire().toString());
        assertEquals("198.19.7.0/28", a.wireSubnet());
    }

    @Test
    void subnetsOutsideTheBenchmarkBlockOrTooSmallAreRefusedWithTheReason() {
        var outside = assertThrows(IllegalArgumentException.class, () -> LabAddresses.of("10.0.0.0/30", "198.19.0.0/24"));
        assertTrue(outside.getMessage().contains("198.18.0.0/15"), outside.getMessage());
        var tiny = assertThrows(IllegalArgumentException.class, () -> LabAddresses.of("198.18.0.0/31", "198.19.0.0/24"));
        assertTrue(tiny.getMessage().contains("/30 or shorter"), tiny.getMessage());
        var garbage = assertThrows(IllegalArgumentException.class, () -> LabAddresses.of("198.18.0.0", "198.19.0.0/24"));
        assertTrue(garbage.getMessage().contains("needs a prefix length"), garbage.getMessage());
    }

    @Test
    void labNamesAreCheckedBeforeAnythingIsNamedAfterThem() {
        LabConfig.requireValidName("lab");
        LabConfig.requireValidName("t1-bench");
        for (String bad : new String[]{"", "Lab", "a_b", "-x", "abcdefghijklmnopqrstu", "x/y"}) {
            assertThrows(IllegalArgumentException.class, () -> LabConfig.requireValidName(bad), bad);
        }
        assertEquals("cardnet-t1-card", new LabNames("t1").cardNamespace());
    }

    @Test
    void componentsParseByCommandOrDisplayName() {
        assertEquals(Component.SIM, Component.parse("pci-link-sim"));
        assertEquals(Component.CARD_NODE, Component.parse("card-node"));
        var e = assertThrows(IllegalArgumentException.class, () -> Component.parse("nic"));
        assertTrue(e.getMessage().contains("sim, card-node, host-bridge"));
    }

    @Test
    void cardKGetsCardZerosSubnetsMovedUpByKAndCardZeroKeepsTheLabsAddresses() {
        LabAddresses a = LabAddresses.DEFAULT;
        assertEquals(a, a.forCard(0));
        LabAddresses c1 = a.forCard(1);
        assertEquals("198.18.0.5/30", c1.hostLink().toString());
        assertEquals("198.18.0.6/30", c1.cardLink().toString());
        assertEquals("198.19.1.2/24", c1.cardWire().toString());
        assertEquals("198.19.1.1/24", c1.peerWire().toString());
        assertEquals("198.18.0.28/30", a.forCard(7).linkSubnet());
        assertEquals("198.19.7.0/24", a.forCard(7).wireSubnet());
        LabAddresses.requireDisjoint(a, LabConfig.Cards.MAX);
    }

    @Test
    void aPlanWhoseCardsOverlapOrLeaveTheBenchmarkBlockIsRefusedWithTheReason() {
        var overlap = assertThrows(IllegalArgumentException.class,
                () -> LabAddresses.requireDisjoint(LabAddresses.of("198.18.0.0/30", "198.18.0.4/30"), 2));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        var outside = assertThrows(IllegalArgumentException.class,
                () -> LabAddresses.requireDisjoint(LabAddresses.of("198.18.0.0/30", "198.19.255.0/24"), 2));
        assertTrue(outside.getMessage().contains("198.18.0.0/15"), outside.getMessage());
    }
}
