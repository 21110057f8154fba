package io.cardnet.card.console;

import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.mac.BuiltinMacs;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything the card's SSH console runs with, in one place: where it listens, whose keys it trusts, where it
 * keeps its host key and what SFTP sees, and the only algorithms it negotiates.
 *
 * <p>Layout of {@code stateDir} (kept by the lab in its run directory, so a restart of card-node keeps the host
 * key and therefore the client's known_hosts entry):
 * <pre>
 *   STATE/host_key        the card's host key (generated on first start, owner-only)
 *   STATE/host_key.pub    its public half, OpenSSH format (for the client's known_hosts)
 *   STATE/data/           the SFTP root and the shell's working directory
 * </pre>
 *
 * @param address        the address the server binds (the card's bus address, host0's)
 * @param port           TCP port (22; 0 picks a free one)
 * @param stateDir       host key and data directory (above)
 * @param authorizedKeys OpenSSH authorized_keys files, all trusted (the firmware's and the lab's); a missing file
 *                       trusts nobody
 * @param shell          the login shell's argv (run with a pty through {@code script} when the client asks for one)
 */
public record ConsoleSettings(InetAddress address, int port, Path stateDir, List<Path> authorizedKeys,
                              List<String> shell) {
    public static final int PORT = 22;
    /** The only user: the console's shell and commands run as card-node does (root on the card). */
    public static final String USER = "root";
    public static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-l");

    /**
     * Key exchange: hybrid post-quantum ML-KEM + X25519 first (OpenSSH 9.9+), then curve25519 (every OpenSSH
     * since 6.5). No finite-field or NIST-curve groups, so a client offering only diffie-hellman-group1/14-sha1
     * finds nothing in common. Strict KEX (the Terrapin fix, kex-strict-s-v00@openssh.com) is always on in
     * MINA SSHD since 2.12: it is offered in every KEXINIT and enforced when the client offers it too.
     */
    public static final List<BuiltinDHFactories> KEX = List.of(BuiltinDHFactories.mlkem768x25519,
            BuiltinDHFactories.curve25519, BuiltinDHFactories.curve25519_libssh);
    /** AEAD first; CTR (with an encrypt-then-MAC below) for older clients. No CBC, 3DES, RC4 or none. */
    public static final List<BuiltinCiphers> CIPHERS = List.of(BuiltinCiphers.aes256gcm, BuiltinCiphers.aes128gcm,
            BuiltinCiphers.aes256ctr, BuiltinCiphers.aes128ctr);
    /** Only used with the CTR ciphers (GCM has its own tag): encrypt-then-MAC SHA-2. */
    public static final List<BuiltinMacs> MACS = List.of(BuiltinMacs.hmacsha256etm, BuiltinMacs.hmacsha512etm);

    public ConsoleSettings {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(stateDir, "stateDir");
        authorizedKeys = List.copyOf(authorizedKeys);
        shell = List.copyOf(shell);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("the console's port must be 0..65535 (0 picks one), was " + port);
        }
        if (shell.isEmpty()) {
            throw new IllegalArgumentException("the console needs a shell command");
        }
    }

    public Path hostKey() {
        return stateDir.resolve("host_key");
    }

    public Path hostPublicKey() {
        return stateDir.resolve("host_key.pub");
    }

    /** The host key as a known_hosts line for the console's address: a client can check the card with it as it is. */
    public Path knownHosts() {
        return stateDir.resolve("known_hosts");
    }

    /** The SFTP virtual root: clients see it as "/", and nothing above it. */
    public Path dataDir() {
        return stateDir.resolve("data");
    }

    /** The algorithm names this console offers, as OpenSSH spells them (for logs and docs). */
    public static String describeAlgorithms() {
        return "kex " + names(KEX) + "; ciphers " + names(CIPHERS) + "; macs " + names(MACS);
    }

    private static String names(List<? extends org.apache.sshd.common.NamedResource> l) {
        return String.join(",", l.stream().map(org.apache.sshd.common.NamedResource::getName).toList());
    }
}
