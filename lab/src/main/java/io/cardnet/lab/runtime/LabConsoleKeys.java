package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The lab's side of the card's SSH console: a key pair made for this lab alone (ed25519, by the stock
 * {@code ssh-keygen}), whose public half card-node trusts besides the firmware's authorized_keys, and a
 * known_hosts naming the card's host key, so {@code ssh} checks the card strictly. All of it lives in the lab's run
 * directory (owner-only) and goes with {@code lab down}; the card's host key stays as long as the lab does, through
 * card-node restarts and firmware swaps. A netns card's card-node makes its host key itself, in this directory; a VM
 * card's cannot reach it, so the lab makes it ({@link #ensureHostKey}) and hands it to the guest at every boot.
 *
 * <pre>
 *   RUN_DIR/console/id_ed25519       the lab's private key (0600)
 *   RUN_DIR/console/id_ed25519.pub   its public half, given to card-node (--console-authorized-keys)
 *   RUN_DIR/console/known_hosts      the card's host key at its bus address (written from card/host_key.pub)
 *   RUN_DIR/console/card/            card-node's console state (--console-dir): host key, data/ (the SFTP root);
 *                                    a VM card's host_key and host_key.pub only, made here by the lab
 * </pre>
 */
public record LabConsoleKeys(Path dir) {
    public static final String USER = "root";
    public static final int PORT = 22;

    public static LabConsoleKeys of(Path runDir) {
        return new LabConsoleKeys(runDir.resolve("console"));
    }

    public Path privateKey() {
        return dir.resolve("id_ed25519");
    }

    public Path publicKey() {
        return dir.resolve("id_ed25519.pub");
    }

    public Path knownHosts() {
        return dir.resolve("known_hosts");
    }

    /** An OpenSSH client configuration naming the card (the compose lab's way in: {@link #writeSshConfig}). */
    public Path sshConfig() {
        return dir.resolve("ssh_config");
    }

    /** card-node's --console-dir. */
    public Path cardState() {
        return dir.resolve("card");
    }

    /** The card's host key (private, 0600): card-node's own on a netns card, the lab's for a VM card. */
    public Path hostKey() {
        return cardState().resolve("host_key");
    }

    /** The card's data directory: what SFTP shows as "/". */
    public Path cardData() {
        return cardState().resolve("data");
    }

    /** Makes the key pair once per lab (kept if it exists: a restarted card-node trusts the same key). */
    public void ensureKeyPair(String labName) throws IOException {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (Files.exists(privateKey())) {
            return;
        }
        Shell.check(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cardnet-lab-" + labName,
                "-f", privateKey().toString()));
        Files.setPosixFilePermissions(privateKey(), PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * Makes the card's host key once per lab, for a card that cannot keep one here itself (a VM: its card-node runs
     * in the guest). ECDSA P-256, the kind card-node makes for itself, so the console takes it as it is instead of
     * making another. Kept if it exists: every boot, slot and drill of the card shows the client the same key.
     */
    public void ensureHostKey(String labName) throws IOException {
        Files.createDirectories(cardState(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (Files.exists(hostKey())) {
            return;
        }
        Shell.check(List.of("ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-C", "cardnet-card-" + labName,
                "-f", hostKey().toString()));
        Files.setPosixFilePermissions(hostKey(), PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * Writes known_hosts from the card's host_key.pub, if it exists; returns whether it could. A netns card writes
     * it once its console listens, so callers wait for the link (or retry) first; a VM card's is the lab's own.
     */
    public boolean writeKnownHosts(String cardAddress) throws IOException {
        Path pub = cardState().resolve("host_key.pub");
        if (!Files.exists(pub)) {
            return false;
        }
        String key = Files.readString(pub).strip();
        Files.writeString(knownHosts(), cardAddress + " " + key + "\n");
        return true;
    }

    /**
     * Writes {@link #sshConfig}: {@code ssh -F FILE HOST} logs in as {@link #sshCommand} does, with the lab's key
     * only and the card's host key checked strictly, against the known_hosts card-node publishes in
     * {@link #cardState} when its console listens: the config is written before the card has ever started (by the
     * compose lab's keys service), and stays true when a restarted card keeps its key.
     */
    public void writeSshConfig(String host, String cardAddress) throws IOException {
        Files.writeString(sshConfig(), String.join("\n",
                "# The card's SSH console, for the stock OpenSSH client: ssh -F " + sshConfig() + " " + host,
                "Host " + host + " " + cardAddress,
                "  HostName " + cardAddress,
                "  Port " + PORT,
                "  User " + USER,
                "  IdentityFile " + privateKey(),
                "  IdentitiesOnly yes",
                "  IdentityAgent none",
                "  # the card's host key, as card-node published it",
                "  UserKnownHostsFile " + cardState().resolve("known_hosts"),
                "  GlobalKnownHostsFile /dev/null",
                "  StrictHostKeyChecking yes",
                "  PasswordAuthentication no",
                "  KbdInteractiveAuthentication no",
                "  ConnectTimeout 10",
                ""));
    }

    /**
     * The stock OpenSSH client's argv for a session on the card (interactive when {@code command} is empty):
     * the lab's key only, the card's host key checked strictly, no agent, no password prompts.
     */
    public List<String> sshCommand(String cardAddress, List<String> command) {
        List<String> argv = new ArrayList<>(List.of("ssh", "-i", privateKey().toString(),
                "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
                "-o", "UserKnownHostsFile=" + knownHosts(), "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes", "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no", "-o", "ConnectTimeout=10",
                "-p", Integer.toString(PORT), USER + "@" + cardAddress));
        if (!command.isEmpty()) {
            argv.add("--");
            argv.addAll(command);
        }
        return argv;
    }
}
