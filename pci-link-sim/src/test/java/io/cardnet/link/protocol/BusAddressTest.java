package io.cardnet.link.protocol;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusAddressTest {
    @Test
    void parsesUnixAndTcpAndSaysWhatIsMissing() {
        assertEquals(new BusAddress.Unix(Path.of("/run/cardnet/lab/host.sock")), BusAddress.parse("unix:/run/cardnet/lab/host.sock"));
        assertEquals(new BusAddress.Unix(Path.of("rel/card.sock")), BusAddress.parse("rel/card.sock"));
        assertEquals(new BusAddress.Tcp("198.18.0.1", 7000), BusAddress.parse("tcp:198.18.0.1:7000"));
        assertEquals("tcp:198.18.0.1:7000", BusAddress.parse("tcp:198.18.0.1:7000").toString());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BusAddress.parse("tcp:host")).getMessage().contains("needs a port"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BusAddress.parse("tcp:h:0")).getMessage().contains("1..65535"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BusAddress.parse("unix:")).getMessage().contains("has no path"));
    }
}
