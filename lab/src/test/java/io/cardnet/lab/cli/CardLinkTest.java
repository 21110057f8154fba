package io.cardnet.lab.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `cardnet sim --extra-card`: one more card's link in the simulator, its parts named, mistakes named back. */
class CardLinkTest {
    @Test
    void anExtraCardNamesItsPortsControlSocketDmaAndMetrics() {
        var c = Components.CardLink.parse("host=unix:/r/card1/host.sock,card=unix:/r/card1/card.sock,"
                + "control=/r/card1/control.sock,dma=/dev/shm/x-card1,metrics=127.0.0.1:9480");
        assertEquals("unix:/r/card1/host.sock", c.hostPort());
        assertEquals("unix:/r/card1/card.sock", c.cardPort());
        assertEquals(Path.of("/r/card1/control.sock"), c.control());
        assertEquals(Path.of("/dev/shm/x-card1"), c.dma());
        assertEquals("127.0.0.1:9480", c.metrics());
        var bare = Components.CardLink.parse("host=tcp:127.0.0.1:7000,card=tcp:127.0.0.1:7001,metrics=127.0.0.1:9480");
        assertNull(bare.control());
        assertNull(bare.dma(), "without dma= its packets travel in frames");
    }

    @Test
    void aMalformedExtraCardIsRefusedNamingWhatIsWrong() {
        for (String bad : new String[]{"host=unix:/a,card=unix:/b", "host=unix:/a,card=unix:/b,metrics=x:1,port=3",
                "host=unix:/a,host=unix:/c,card=unix:/b,metrics=x:1", "garbage"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Components.CardLink.parse(bad));
            assertTrue(e.getMessage().contains("--extra-card '" + bad + "'"), e.getMessage());
        }
    }
}
