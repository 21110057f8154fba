package io.cardnet.card.console;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.common.SftpException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console on loopback (no root needed), driven by MINA's own client: key login and exec, a password request
 * refused and counted, SFTP inside the data directory and refused above it, the host key kept across restarts.
 * The stock OpenSSH client is ConsoleIT's (a real lab).
 */
class CardConsoleTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private KeyPair trusted;
    private CardConsole console;
    private SshClient client;

    @BeforeEach
    void start() throws Exception {
        // ed25519, like the lab's key (ssh-keygen -t ed25519): needs an EdDSA provider MINA can use.
        trusted = org.apache.sshd.common.config.keys.KeyUtils.generateKeyPair("ssh-ed25519", 256);
        Files.writeString(dir.resolve("lab.pub"), PublicKeyEntry.toString(trusted.getPublic()) + " lab\n");
        console = startConsole();
        client = SshClient.setUpDefaultClient();
        client.start();
    }

    private CardConsole startConsole() throws Exception {
        return CardConsole.start(new ConsoleSettings(InetAddress.getLoopbackAddress(), 0, dir.resolve("state"),
                List.of(dir.resolve("firmware-authorized_keys-missing"), dir.resolve("lab.pub")),
                ConsoleSettings.DEFAULT_SHELL), registry);
    }

    @AfterEach
    void stop() throws Exception {
        client.stop();
        console.close();
    }

    private ClientSession connect() throws Exception {
        ClientSession s = client.connect(ConsoleSettings.USER, "127.0.0.1", console.port()).verify(T).getClientSession();
        return s;
    }

    private double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? -1 : c.count();
    }

    @Test
    void aTrustedKeyLogsInAndRunsACommand() throws Exception {
        try (ClientSession s = connect()) {
            s.addPublicKeyIdentity(trusted);
            s.auth().verify(T);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals("card\n", s.executeRemoteCommand("echo card; echo oops >&2", err, StandardCharsets.UTF_8));
            assertEquals("oops\n", err.toString(StandardCharsets.UTF_8));
        }
        assertEquals(1.0, counter("cardnet.card.console.sessions.opened"));
        assertTrue(Files.readString(dir.resolve("state/host_key.pub")).startsWith("ecdsa-sha2-nistp256 "));
        // the same key as a known_hosts line for the console's address and (not 22 here) port
        assertEquals("[127.0.0.1]:" + console.port() + " " + Files.readString(dir.resolve("state/host_key.pub")),
                Files.readString(dir.resolve("state/known_hosts")));
    }

    @Test
    void anUnknownKeyAndAPasswordAreRefusedAndCounted() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        try (ClientSession s = connect()) {
            s.addPublicKeyIdentity(g.generateKeyPair());
            s.addPasswordIdentity("root");
            assertThrows(Exception.class, () -> s.auth().verify(T));
        }
        assertTrue(counter("cardnet.card.console.auth.refused", "method", "publickey") >= 1);
        // MINA's client only tries a method the server offers; the server offers publickey alone, so the
        // password never leaves the client. The counter still exists, at 0.
        assertEquals(0.0, counter("cardnet.card.console.auth.refused", "method", "password"));
        assertEquals(0.0, counter("cardnet.card.console.sessions.opened"));
    }

    @Test
    void aPasswordSentAnywayIsRefusedAndCounted() throws Exception {
        // No stock client sends a method the server did not offer, so the request is written by hand: what a
        // scanner or a hostile client does.
        try (ClientSession s = connect()) {
            s.waitFor(java.util.EnumSet.of(ClientSession.ClientSessionEvent.WAIT_AUTH), T);
            for (String method : List.of("password", "keyboard-interactive")) {
                var b = s.createBuffer(org.apache.sshd.common.SshConstants.SSH_MSG_USERAUTH_REQUEST);
                b.putString(ConsoleSettings.USER);
                b.putString("ssh-connection");
                b.putString(method);
                if (method.equals("password")) {
                    b.putBoolean(false);
                    b.putString("root");
                } else {
                    b.putString("");
                    b.putString("");
                }
                s.writePacket(b);
            }
            long deadline = System.nanoTime() + T.toNanos();
            while (counter("cardnet.card.console.auth.refused", "method", "keyboard-interactive") < 1
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(s.isAuthenticated());
        }
        assertEquals(1.0, counter("cardnet.card.console.auth.refused", "method", "password"));
        assertEquals(1.0, counter("cardnet.card.console.auth.refused", "method", "keyboard-interactive"));
        assertEquals(0.0, counter("cardnet.card.console.sessions.opened"));
    }

    @Test
    void sftpStaysInTheDataDirectory() throws Exception {
        Files.writeString(dir.resolve("state/data/inside.txt"), "inside");
        Files.writeString(dir.resolve("secret.txt"), "outside");
        try (ClientSession s = connect()) {
            s.addPublicKeyIdentity(trusted);
            s.auth().verify(T);
            try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(s)) {
                assertEquals("/", sftp.canonicalPath("."));
                try (var in = sftp.read("/inside.txt")) {
                    assertEquals("inside", new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
                SftpException up = assertThrows(SftpException.class, () -> sftp.canonicalPath(".."));
                assertEquals(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_PERMISSION_DENIED, up.getStatus());
                assertThrows(SftpException.class, () -> sftp.read("../../secret.txt").readAllBytes());
                assertThrows(SftpException.class, () -> sftp.read("/a/../../state/../secret.txt").readAllBytes());
            }
        }
        assertEquals(3.0, counter("cardnet.card.console.sftp.denied"));
    }

    @Test
    void theHostKeyOutlivesARestart() throws Exception {
        String before = Files.readString(dir.resolve("state/host_key.pub"));
        console.close();
        console = startConsole();
        assertEquals(before, Files.readString(dir.resolve("state/host_key.pub")));
        assertFalse(Files.getPosixFilePermissions(dir.resolve("state"))
                .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ));
    }
}
