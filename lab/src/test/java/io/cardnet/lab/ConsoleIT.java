package io.cardnet.lab;

import io.cardnet.lab.runtime.LabConsoleKeys;
import io.cardnet.lab.runtime.Shell;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The card's SSH console on a real lab, with the stock OpenSSH client ({@code ssh}, {@code sftp}) run in the lab's
 * host namespace, across toe0, the bus and host0: key login runs commands in the card's namespace; password
 * login, a weak cipher and a weak key exchange are refused; SFTP cannot climb out of the card's data directory;
 * a session stays up while 100 MiB goes through SFTP beside it (SHA-256 equal on both sides).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleIT {
    private static final String CARD = "198.18.0.2";
    private static final long MIB = 1 << 20;

    private TestLab t;
    private LabConsoleKeys keys;
    private Path scratch;

    @RegisterExtension
    final FailureLogs logs = new FailureLogs(() -> t);

    @BeforeAll
    void up() throws Exception {
        io.cardnet.netdev.testing.RootRequired.requireTool("ssh");
        io.cardnet.netdev.testing.RootRequired.requireTool("sftp");
        t = TestLab.up(c -> c);
        keys = t.lab.consoleKeys();
        scratch = Files.createTempDirectory("cardnet-console-it");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!keys.writeKnownHosts(CARD)) {
            assertTrue(System.nanoTime() < deadline, "the card's console never published its host key");
            Thread.sleep(100);
        }
    }

    @AfterAll
    void down() throws Exception {
        try {
            TestLab.deleteTree(scratch);
        } finally {
            if (t != null) {
                t.close();
            }
        }
    }

    private Shell.Result ssh(List<String> extra, String... command) throws IOException {
        return t.ssh(extra, command);
    }

    /** sftp with the lab's key, running a batch file; a line starting with '-' may fail without ending the batch. */
    private Shell.Result sftp(String... batch) throws IOException {
        Path file = scratch.resolve("batch");
        Files.write(file, List.of(batch));
        return Shell.run(Shell.inNamespace(t.hostNs(), List.of("sftp", "-i", keys.privateKey().toString(),
                "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=" + keys.knownHosts(), "-o", "StrictHostKeyChecking=yes",
                "-b", file.toString(), "root@" + CARD)), 300);
    }

    @Test
    void aKeyLoginRunsCommandsInTheCardsNamespace() throws Exception {
        Shell.Result r = ssh(List.of("-vvv"), "ip", "-o", "addr");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("host0") && r.output().contains(CARD + "/30"), r.output());
        assertTrue(r.output().contains("eth0") && r.output().contains("198.19.0.2/24"), r.output());
        assertFalse(r.output().contains("toe0"), "the command ran on the host side:\n" + r.output());
        // What OpenSSH negotiated: a curve25519 exchange (9.2 knows no ML-KEM), an allowed cipher.
        assertTrue(r.output().contains("kex: algorithm: curve25519-sha256"), r.output());
        assertTrue(Pattern.compile("kex: server->client cipher: (aes128-ctr|aes256-ctr|aes128-gcm@openssh.com|aes256-gcm@openssh.com)")
                .matcher(r.output()).find(), r.output());
        // Strict KEX (the Terrapin fix): both sides offer it, so OpenSSH enforces it.
        assertTrue(r.output().contains("kex-strict-s-v00@openssh.com")
                && r.output().contains("will use strict KEX ordering"), r.output());
        Shell.Result pty = ssh(List.of("-tt"), "tty");
        assertTrue(pty.exitCode() == 0 && pty.output().contains("/dev/pts/"), "no pty for -tt: " + pty.output());
        Shell.Result exit = ssh(List.of(), "exit", "7");
        assertEquals(7, exit.exitCode(), "the command's exit status comes back: " + exit.output());
        assertTrue(metric("cardnet_card_console_sessions_opened_total") >= 2);
    }

    @Test
    void passwordLoginIsRefused() throws Exception {
        Shell.Result r = ssh(List.of("-o", "PreferredAuthentications=password,keyboard-interactive",
                "-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=yes",
                "-o", "KbdInteractiveAuthentication=yes"), "true");
        assertEquals(255, r.exitCode(), r.output());
        assertTrue(r.output().contains("Permission denied (publickey)"), r.output());
    }

    @Test
    void aWeakCipherAndAWeakKeyExchangeAreRefused() throws Exception {
        double before = metric("cardnet_card_console_kex_refused_total");
        Shell.Result cbc = ssh(List.of("-c", "aes128-cbc"), "true");
        assertEquals(255, cbc.exitCode(), cbc.output());
        assertTrue(cbc.output().contains("no matching cipher"), cbc.output());
        Shell.Result des = ssh(List.of("-c", "3des-cbc"), "true");
        assertTrue(des.exitCode() == 255 && des.output().contains("no matching cipher"), des.output());
        Shell.Result kex = ssh(List.of("-o", "KexAlgorithms=diffie-hellman-group14-sha1"), "true");
        assertEquals(255, kex.exitCode(), kex.output());
        assertTrue(kex.output().contains("no matching key exchange method"), kex.output());
        Shell.Result g1 = ssh(List.of("-o", "KexAlgorithms=diffie-hellman-group1-sha1"), "true");
        assertEquals(255, g1.exitCode(), g1.output());
        assertTrue(metric("cardnet_card_console_kex_refused_total") >= before + 4);
    }

    @Test
    void sftpCannotLeaveTheCardsDataDirectory() throws Exception {
        Files.writeString(keys.cardData().resolve("hello.txt"), "from the card\n");
        double before = metric("cardnet_card_console_sftp_denied_total");
        Path got = scratch.resolve("passwd");
        Shell.Result escape = sftp("get ../../etc/passwd " + got);
        assertNotEquals(0, escape.exitCode(), escape.output());
        assertFalse(Files.exists(got), "a file came out from above the root:\n" + escape.output());

        Shell.Result cd = sftp("-cd ..", "-cd ../..", "pwd", "ls -1", "get hello.txt " + scratch.resolve("hello.txt"));
        assertEquals(0, cd.exitCode(), cd.output());
        assertTrue(cd.output().contains("Remote working directory: /\n") || cd.output().endsWith("Remote working directory: /"),
                cd.output());
        assertTrue(cd.output().contains("hello.txt"), cd.output());
        assertEquals("from the card\n", Files.readString(scratch.resolve("hello.txt")));
        assertTrue(metric("cardnet_card_console_sftp_denied_total") >= before + 3, "denied paths are counted");
    }

    @Test
    void aSessionSurvives100MiBThroughSftpBesideIt() throws Exception {
        // A session that waits for a line on stdin: it must still answer after the transfer.
        List<String> argv = new ArrayList<>(keys.sshCommand(CARD, List.of("read", "line;", "echo", "survived", "$line")));
        argv.addAll(1, List.of("-o", "BatchMode=yes"));
        Process session = new ProcessBuilder(Shell.inNamespace(t.hostNs(), argv)).redirectErrorStream(true).start();
        try {
            Path big = scratch.resolve("big.bin");
            String sent = writeRandom(big, 100 * MIB);
            Shell.Result put = sftp("put " + big + " /big.bin", "get /big.bin " + scratch.resolve("back.bin"));
            assertEquals(0, put.exitCode(), put.output());
            assertEquals(sent, sha256(keys.cardData().resolve("big.bin")), "the card's copy differs");
            assertEquals(sent, sha256(scratch.resolve("back.bin")), "the copy fetched back differs");
            assertTrue(session.isAlive(), "the session ended during the transfer");
            try (OutputStream in = session.getOutputStream()) {
                in.write("yes\n".getBytes(StandardCharsets.US_ASCII));
            }
            assertTrue(session.waitFor(30, TimeUnit.SECONDS), "the session did not finish");
            String out = new String(session.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, session.exitValue(), out);
            assertTrue(out.contains("survived yes"), out);
        } finally {
            session.destroyForcibly();
            session.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void theHostKeySurvivesACardNodeRestart() throws Exception {
        String before = Files.readString(keys.cardState().resolve("host_key.pub"));
        t.lab.restart(io.cardnet.lab.runtime.Component.CARD_NODE);
        t.lab.awaitLinkUp(java.time.Duration.ofSeconds(30));
        // known_hosts is not rewritten: strict checking passes only if the card kept its key.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Shell.Result r;
        do {
            r = ssh(List.of(), "echo", "back");
        } while (r.exitCode() != 0 && System.nanoTime() < deadline && sleep(200));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("back"), r.output());
        assertEquals(before, Files.readString(keys.cardState().resolve("host_key.pub")));
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }

    private static String writeRandom(Path file, long bytes) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 20];
        Random r = new Random(12);
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = bytes; left > 0; left -= buf.length) {
                r.nextBytes(buf);
                out.write(buf);
                md.update(buf);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** A card-node metric's value (summed over its tags), scraped across the link from the host side. */
    private double metric(String name) throws Exception {
        String text = TestLab.in(t.hostNs(), () -> TestLab.httpGet("http://" + CARD + ":9472/metrics"));
        Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
        double sum = 0;
        boolean found = false;
        while (m.find()) {
            found = true;
            sum += Double.parseDouble(m.group(2));
        }
        assertTrue(found, name + " is not among card-node's metrics");
        return sum;
    }
}
