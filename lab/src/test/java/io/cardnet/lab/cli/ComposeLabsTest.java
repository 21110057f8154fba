package io.cardnet.lab.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `--runtime compose` on lab up/status/down, link and card exec: what it refuses, before Docker is asked anything. */
class ComposeLabsTest {
    private static String refused(String... args) {
        CommandLine cl = Commands.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        assertEquals(1, cl.execute(args), err.toString());
        return err.toString();
    }

    @Test
    void whatOnlyTheEmbeddedLabHasIsRefusedWithTheComposeWay() {
        String isolated = refused("lab", "up", "--runtime", "compose", "--isolated");
        assertTrue(isolated.contains("--isolated is the embedded lab's"), isolated);
        String export = refused("lab", "up", "--runtime", "compose", "--export", "/");
        assertTrue(export.contains("CARDNET_EXPORT=DIR"), export);
        String upstream = refused("lab", "up", "--runtime", "compose", "--upstream", "gen3x4");
        assertTrue(upstream.contains("--upstream shares a switch between cards"), upstream);
        String cards = refused("lab", "up", "--runtime", "compose", "--cards", "9");
        assertTrue(cards.contains("--cards must be 1..8"), cards);
        String pair = refused("lab", "up", "--runtime", "compose", "--cards", "2", "--pair");
        assertTrue(pair.contains("--pair runs on the netns runtime only"), pair);
        String control = refused("link", "show", "--runtime", "compose", "--control", "/tmp/x.sock");
        assertTrue(control.contains("leave out --control"), control);
    }

    @Test
    void everyComposeCommandTeachesItsOptions() {
        CommandLine cl = Commands.commandLine();
        for (String[] path : new String[][]{{"lab", "up"}, {"lab", "status"}, {"lab", "down"}}) {
            String usage = cl.getSubcommands().get(path[0]).getSubcommands().get(path[1]).getUsageMessage();
            assertTrue(usage.contains("--runtime") && usage.contains("--project") && usage.contains("--file"), usage);
        }
        String link = cl.getSubcommands().get("link").getSubcommands().get("show").getUsageMessage();
        assertTrue(link.contains("--runtime") && link.contains("--project") && link.contains("--card"), link);
        assertTrue(cl.getSubcommands().get("lab").getSubcommands().get("up").getUsageMessage()
                .contains("lab up --runtime compose --cards 2"));
    }
}
