package io.cardnet.lab.runtime;

import io.cardnet.card.ipsec.TunnelKeys;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the compose lab's keys service writes, with the real ssh-keygen and the shipped firmware directories. */
class ComposeSecretsTest {
    private static final Path FIRMWARE = Path.of("..", "images", "card-firmware");
    private static final LabAddresses COMPOSE = LabAddresses.of("198.18.0.0/30", "198.18.1.0/24");

    @TempDir
    Path console;
    @TempDir
    Path ipsec;

    @Test
    void aKeyPairOnceAndAnSshConfigThatChecksTheCardStrictly() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh-keygen")), "ssh-keygen (openssh-client)");
        ComposeSecrets.make(console, null, null, COMPOSE);
        LabConsoleKeys k = new LabConsoleKeys(console);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(k.privateKey())));
        byte[] first = Files.readAllBytes(k.privateKey());
        ComposeSecrets.make(console, null, null, COMPOSE);
        assertArrayEquals(first, Files.readAllBytes(k.privateKey()), "a second up keeps the lab's key");
        String config = Files.readString(k.sshConfig());
        assertTrue(config.contains("Host card 198.18.0.2") && config.contains("HostName 198.18.0.2"), config);
        assertTrue(config.contains("IdentityFile " + k.privateKey()) && config.contains("IdentitiesOnly yes"), config);
        assertTrue(config.contains("UserKnownHostsFile " + k.cardState().resolve("known_hosts"))
                && config.contains("StrictHostKeyChecking yes") && config.contains("PasswordAuthentication no"), config);
    }

    @Test
    void espKeysOnlyForAFirmwareWithIpsecKeptWhileTheyFit() throws Exception {
        ComposeSecrets.make(null, ipsec, FIRMWARE.resolve("1.2.0"), COMPOSE);
        Path file = ipsec.resolve(ComposeSecrets.KEYS_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        TunnelKeys k = TunnelKeys.read(file);
        assertEquals("198.18.1.2", k.cardOuter());
        assertEquals("198.18.1.1", k.peerOuter());
        assertEquals("198.18.0.0/30", k.cardPrefix());
        assertEquals("198.18.1.0/24", k.peerPrefix());
        ComposeSecrets.make(null, ipsec, FIRMWARE.resolve("1.2.0"), COMPOSE);
        assertArrayEquals(k.toPeer().key(), TunnelKeys.read(file).toPeer().key(), "the ends already hold these");
        ComposeSecrets.make(null, ipsec, FIRMWARE.resolve("1.2.0"), LabAddresses.DEFAULT);
        assertFalse(java.util.Arrays.equals(k.toPeer().key(), TunnelKeys.read(file).toPeer().key()),
                "other tunnel ends get new keys");
        ComposeSecrets.make(null, ipsec, FIRMWARE.resolve("1.0.1"), COMPOSE);
        assertFalse(Files.exists(file), "a firmware without ipsec: leaves no keys (esp-peer stays idle)");
    }
}
