package io.cardnet.card.console;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's settings and path rules, without a server. */
class ConsolePartsTest {
    @Test
    void pathsThatClimbAboveTheRootAreRecognisedFromTheirText() {
        for (String p : List.of("..", "/..", "../../etc/passwd", "/../../etc/passwd", "a/../..", "./../x", "a/b/../../../c")) {
            assertTrue(JailedFileAccess.climbsAboveRoot(p), p);
        }
        for (String p : List.of("", ".", "/", "/etc/passwd", "a/..", "a/b/../c", "/a/./b/..", "..a", "a..")) {
            assertFalse(JailedFileAccess.climbsAboveRoot(p), p);
        }
    }

    @Test
    void aPtyWrapsTheShellInScriptQuotedAndSized() {
        assertEquals(List.of("script", "-q", "-f", "-e", "-c", "stty cols 80 rows 24 2>/dev/null; exec '/bin/sh' '-l'",
                "/dev/null"), CardProcess.withPty(List.of("/bin/sh", "-l"), 80, 24));
        assertEquals("exec 'it'\\''s'", CardProcess.withPty(List.of("it's"), 0, 0).get(5));
    }

    @Test
    void onlyModernAlgorithmsAreAllowed() {
        String all = ConsoleSettings.describeAlgorithms();
        assertTrue(all.contains("curve25519-sha256") && all.contains("mlkem768x25519-sha256"), all);
        assertTrue(all.contains("aes256-gcm@openssh.com") && all.contains("aes128-ctr"), all);
        for (String weak : List.of("sha1", "cbc", "3des", "arcfour", "none", "diffie-hellman-group")) {
            assertFalse(all.contains(weak), weak + " in " + all);
        }
    }

    @Test
    void settingsRefuseWhatCannotWork() {
        InetAddress a = InetAddress.getLoopbackAddress();
        assertThrows(IllegalArgumentException.class, () -> new ConsoleSettings(a, -1, Path.of("/x"), List.of(), List.of("/bin/sh")));
        assertThrows(IllegalArgumentException.class, () -> new ConsoleSettings(a, 22, Path.of("/x"), List.of(), List.of()));
        ConsoleSettings s = new ConsoleSettings(a, 22, Path.of("/s"), List.of(), ConsoleSettings.DEFAULT_SHELL);
        assertEquals(Path.of("/s/data"), s.dataDir());
        assertEquals(Path.of("/s/host_key"), s.hostKey());
    }
}
