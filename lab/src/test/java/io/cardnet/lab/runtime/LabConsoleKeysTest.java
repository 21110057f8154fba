package io.cardnet.lab.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab's console files and the ssh command line, without a lab. */
class LabConsoleKeysTest {
    @TempDir
    Path run;

    @Test
    void filesLiveInTheRunDirectory() {
        LabConsoleKeys k = LabConsoleKeys.of(run);
        assertEquals(run.resolve("console/id_ed25519"), k.privateKey());
        assertEquals(run.resolve("console/id_ed25519.pub"), k.publicKey());
        assertEquals(run.resolve("console/card/data"), k.cardData());
    }

    @Test
    void knownHostsComeFromTheCardsPublishedHostKey() throws Exception {
        LabConsoleKeys k = LabConsoleKeys.of(run);
        assertFalse(k.writeKnownHosts("198.18.0.2"), "nothing published yet");
        Files.createDirectories(k.cardState());
        Files.writeString(k.cardState().resolve("host_key.pub"), "ecdsa-sha2-nistp256 AAAA\n");
        assertTrue(k.writeKnownHosts("198.18.0.2"));
        assertEquals("198.18.0.2 ecdsa-sha2-nistp256 AAAA\n", Files.readString(k.knownHosts()));
    }

    /**
     * A VM card's host key, made by the lab with the stock ssh-keygen, is the one card-node's console serves (it does
     * not make another), and the lab keeps it: what known_hosts says holds for every boot.
     */
    @Test
    void theHostKeyTheLabMakesIsTheOneTheConsoleServes() throws Exception {
        io.cardnet.netdev.testing.RootRequired.requireTool("ssh-keygen");
        LabConsoleKeys k = LabConsoleKeys.of(run);
        k.ensureHostKey("t");
        String made = Files.readString(k.cardState().resolve("host_key.pub"));
        assertTrue(made.startsWith("ecdsa-sha2-nistp256 "), made);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(k.hostKey())));
        k.ensureHostKey("t");
        assertEquals(made, Files.readString(k.cardState().resolve("host_key.pub")), "kept, not made again");

        // the guest's console directory: the host key as cardnet-init copies it there, nothing else
        Path guest = run.resolve("guest-console");
        Files.createDirectories(guest);
        Files.copy(k.hostKey(), guest.resolve("host_key"));
        try (var console = io.cardnet.card.console.CardConsole.start(new io.cardnet.card.console.ConsoleSettings(
                java.net.InetAddress.getLoopbackAddress(), 0, guest, List.of(), List.of("/bin/sh")),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
            String served = Files.readString(guest.resolve("host_key.pub")).strip();
            assertEquals(made.split(" ")[1], served.split(" ")[1], "the console made a key of its own");
        }
    }

    @Test
    void sshUsesOnlyTheLabsKeyAndChecksTheHostStrictly() {
        LabConsoleKeys k = LabConsoleKeys.of(run);
        List<String> shell = k.sshCommand("198.18.0.2", List.of());
        assertEquals("root@198.18.0.2", shell.getLast());
        String line = String.join(" ", shell);
        for (String o : List.of("-i " + k.privateKey(), "IdentitiesOnly=yes", "StrictHostKeyChecking=yes",
                "UserKnownHostsFile=" + k.knownHosts(), "PasswordAuthentication=no")) {
            assertTrue(line.contains(o), o + " missing: " + line);
        }
        assertEquals(List.of("root@198.18.0.2", "--", "ip", "-o", "addr"),
                k.sshCommand("198.18.0.2", List.of("ip", "-o", "addr")).subList(shell.size() - 1, shell.size() + 4));
    }
}
