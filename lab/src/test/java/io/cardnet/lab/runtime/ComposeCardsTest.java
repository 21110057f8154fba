package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compose lab's card plan, and the checked-in files that are ComposeCards' output (so they cannot drift). */
class ComposeCardsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void checkedInFilesAreWhatTheGeneratorWrites() throws Exception {
        assertEquals(ComposeCards.prometheus(1), Files.readString(ROOT.resolve("prometheus/prometheus.yml")),
                "prometheus/prometheus.yml is ComposeCards.prometheus(1); regenerate it");
        assertEquals(ComposeCards.prometheus(2), Files.readString(ROOT.resolve("prometheus/prometheus.cards2.yml")),
                "prometheus/prometheus.cards2.yml is ComposeCards.prometheus(2); regenerate it");
        assertEquals(ComposeCards.override(2, "./prometheus/prometheus.cards2.yml"),
                Files.readString(ROOT.resolve("compose.cards2.yaml")),
                "compose.cards2.yaml is ComposeCards.override(2, ...); regenerate it");
    }

    @Test
    void cardZeroKeepsComposeYamlsAddressesAndCardKMovesUpByAWholeWireNetwork() {
        LabAddresses c0 = ComposeCards.addresses(0);
        assertEquals("198.18.0.1/30", c0.hostLink().toString());
        assertEquals("198.18.0.2/30", c0.cardLink().toString());
        assertEquals("198.18.1.2/24", c0.cardWire().toString());
        assertEquals("198.18.1.1/24", c0.peerWire().toString());
        LabAddresses c3 = ComposeCards.addresses(3);
        assertEquals("198.18.6.1/30", c3.hostLink().toString());
        assertEquals("198.18.6.2/30", c3.cardLink().toString());
        assertEquals("198.18.7.2/24", c3.cardWire().toString());
        assertEquals("198.18.7.1/24", c3.peerWire().toString());
        assertEquals("198.18.6.0/23", ComposeCards.wireNetworkSubnet(3));
        // every card's Docker wire network holds its link (Docker drops what is outside) and no other card's
        for (int k = 0; k < LabConfig.Cards.MAX; k++) {
            assertEquals(ComposeCards.wireNetworkSubnet(k), "198.18." + 2 * k + ".0/23");
            assertTrue(ComposeCards.addresses(k).linkSubnet().startsWith("198.18." + 2 * k + "."));
        }
        assertEquals(9480, ComposeCards.simMetricsPort(1));
        assertEquals(9491, ComposeCards.hostBridgeMetricsPort(2));
    }

    @Test
    void anOverrideAddsCardsToCardZero() {
        String two = ComposeCards.override(2, "p.yml");
        assertTrue(two.contains("  card1:") && two.contains("  host1:") && !two.contains("  card2:"), two);
        assertTrue(two.contains("--extra-card host=unix:/run/cardnet/card1/host.sock"), two);
        String eight = ComposeCards.override(8, "p.yml");
        assertTrue(eight.contains("  card7:") && eight.contains("  wire7:") && eight.contains("toe7"), eight);
        var e = assertThrows(IllegalArgumentException.class, () -> ComposeCards.override(1, "p.yml"));
        assertTrue(e.getMessage().contains("2..8"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ComposeCards.override(9, "p.yml"));
        String prom = ComposeCards.prometheus(3);
        assertTrue(prom.contains("\"card2:9472\"], labels: {component: card, card: \"2\"}")
                && prom.contains("\"pci-link:9490\"]") && prom.contains("\"host:9491\"]"), prom);
    }
}
