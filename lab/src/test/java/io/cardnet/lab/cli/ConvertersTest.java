package io.cardnet.lab.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertersTest {

    @Test
    void sizesArePowersOf1024() {
        var c = new Converters.SizeConverter();
        assertEquals(65536L, c.convert("65536"));
        assertEquals(64L << 10, c.convert("64K"));
        assertEquals(1L << 30, c.convert("1G"));
        assertEquals(1L << 30, c.convert("1GiB"));
        assertEquals(256L << 20, c.convert("256m"));
        var e = assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("lots"));
        assertTrue(e.getMessage().contains("'lots' is not a size"));
    }

    @Test
    void durationsTakeTheUnitsPeopleType() {
        var c = new Converters.DurationConverter();
        assertEquals(Duration.ofMillis(100), c.convert("100ms"));
        assertEquals(Duration.ofSeconds(2), c.convert("2s"));
        assertEquals(Duration.ofMinutes(1), c.convert("1m"));
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("2 hours"));
    }

    @Test
    void hostPortNamesTheOptionWhenWrong() {
        assertEquals(9, Converters.hostPort("198.18.0.2:9", "--to").getPort());
        var noPort = assertThrows(IllegalArgumentException.class, () -> Converters.hostPort("198.18.0.2", "--to"));
        assertTrue(noPort.getMessage().startsWith("--to takes HOST:PORT"));
        var badPort = assertThrows(IllegalArgumentException.class, () -> Converters.hostPort("x:99999", "--listen"));
        assertTrue(badPort.getMessage().contains("not a port"));
    }

    @Test
    void everyCommandHasHelpThatTeaches() {
        CommandLine cl = Commands.commandLine();
        for (String[] path : new String[][]{{"lab", "up"}, {"lab", "down"}, {"lab", "status"}, {"lab", "restart"},
                {"failover"}, {"drill"}, {"tool", "send"}, {"tool", "sink"}, {"sim"}, {"host-bridge"}, {"card-node"}}) {
            CommandLine sub = cl;
            for (String p : path) {
                sub = sub.getSubcommands().get(p);
            }
            String usage = sub.getUsageMessage();
            assertTrue(usage.contains("Usage: cardnet " + String.join(" ", path)), usage);
            assertTrue(sub.getCommandSpec().usageMessage().description().length > 0, "no description: " + String.join(" ", path));
        }
        assertTrue(cl.getSubcommands().get("lab").getSubcommands().get("up").getUsageMessage().contains("--isolated"));
    }
}
