package io.cardnet.card.console;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.server.session.ServerConnectionServiceFactory;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The card's console: an SSH server (Apache MINA SSHD, NIO2 transport) on the card's bus address. Public keys
 * only, the algorithms of {@link ConsoleSettings} only; a shell or single commands run on the card, and SFTP sees
 * the card's data directory as its whole file system.
 */
public final class CardConsole implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CardConsole.class);

    private final SshServer server;

    private CardConsole(SshServer server) {
        this.server = server;
    }

    public static CardConsole start(ConsoleSettings s, MeterRegistry registry) throws IOException {
        Files.createDirectories(s.stateDir(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createDirectories(s.dataDir());
        ConsoleCounters counters = new ConsoleCounters(registry);

        List<KeyExchangeFactory> kex = new ArrayList<>(ServerBuilder.setUpDefaultKeyExchanges(false).stream()
                .filter(f -> ConsoleSettings.KEX.stream().anyMatch(k -> k.getName().equals(f.getName()))).toList());
        if (kex.isEmpty()) {
            throw new IOException("the console has no supported key exchange among " + ConsoleSettings.describeAlgorithms());
        }
        SshServer server = ServerBuilder.builder()
                .keyExchangeFactories(kex)
                .cipherFactories(new ArrayList<>(NamedFactory.setUpBuiltinFactories(false, ConsoleSettings.CIPHERS)))
                .macFactories(new ArrayList<>(NamedFactory.setUpBuiltinFactories(false, ConsoleSettings.MACS)))
                .build();
        server.setHost(s.address().getHostAddress());
        server.setPort(s.port());

        SimpleGeneratorHostKeyProvider hostKey = new SimpleGeneratorHostKeyProvider(s.hostKey());
        hostKey.setAlgorithm(KeyUtils.EC_ALGORITHM);
        hostKey.setKeySize(256);
        server.setKeyPairProvider(hostKey);

        // Public keys only: no password or keyboard-interactive factory exists, so neither is offered or accepted.
        server.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        server.setPublickeyAuthenticator(new AuthorizedKeys(s.authorizedKeys(), counters));
        server.setPasswordAuthenticator(null);
        server.setKeyboardInteractiveAuthenticator(null);
        server.setServiceFactories(List.of(new CountingUserAuthService.Factory(counters), ServerConnectionServiceFactory.INSTANCE));

        server.setShellFactory(channel -> new CardProcess(s.shell(), s.dataDir()));
        server.setCommandFactory((channel, command) -> new CardProcess(List.of("/bin/sh", "-c", command), s.dataDir()));
        server.setFileSystemFactory(new VirtualFileSystemFactory(s.dataDir()));
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory.Builder()
                .withFileSystemAccessor(new JailedFileAccess(counters)).build()));
        server.addSessionListener(new Sessions(counters));
        try {
            server.start();
        } catch (IOException e) {
            throw new IOException("the console cannot listen on " + s.address().getHostAddress() + ":" + s.port() + " ("
                    + e.getMessage() + "): is another SSH server bound there in the card's namespace?", e);
        }

        writePublicHostKey(s, hostKey, server.getPort());
        log.info("console listening on {}:{} ({}; ciphers and macs as configured: {}); keys from {}",
                s.address().getHostAddress(), server.getPort(), kexNames(kex), ConsoleSettings.describeAlgorithms(),
                s.authorizedKeys());
        return new CardConsole(server);
    }

    private static String kexNames(List<KeyExchangeFactory> kex) {
        return "kex offered " + String.join(",", kex.stream().map(KeyExchangeFactory::getName).toList());
    }

    /**
     * The host key's public half in OpenSSH format (the netns lab writes its known_hosts from it), and a known_hosts
     * line naming the console's address, which a client that cannot write files of its own reads as it is (the compose
     * lab's host container: ssh -F /console/ssh_config).
     */
    private static void writePublicHostKey(ConsoleSettings s, SimpleGeneratorHostKeyProvider provider, int port)
            throws IOException {
        try {
            for (KeyPair kp : provider.loadKeys(null)) {
                String key = PublicKeyEntry.toString(kp.getPublic());
                Files.writeString(s.hostPublicKey(), key + "\n");
                String host = s.address().getHostAddress();
                Files.writeString(s.knownHosts(), (port == 22 ? host : "[" + host + "]:" + port) + " " + key + "\n");
                return;
            }
        } catch (RuntimeException e) {
            throw new IOException("the console's host key " + s.hostKey() + " is unusable: " + e.getMessage()
                    + "; delete it and card-node makes a new one", e);
        }
    }

    /** The port the server listens on (the settings' port, or the one picked for port 0). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }

    /** Counts logged-in sessions, and handshakes that found no common algorithm (a weak-only client). */
    private static final class Sessions implements SessionListener {
        private final ConsoleCounters counters;

        Sessions(ConsoleCounters counters) {
            this.counters = counters;
        }

        @Override
        public void sessionEvent(Session session, Event event) {
            if (event == Event.Authenticated) {
                session.setAttribute(LOGGED_IN, Boolean.TRUE);
                counters.sessionOpened();
            }
        }

        @Override
        public void sessionNegotiationEnd(Session session, Map<KexProposalOption, String> client,
                                          Map<KexProposalOption, String> server, Map<KexProposalOption, String> negotiated,
                                          Throwable reason) {
            if (reason != null) {
                counters.kexRefused();
                log.info("console: {} offered nothing the console allows ({})", session.getRemoteAddress(), reason.getMessage());
            }
        }

        @Override
        public void sessionClosed(Session session) {
            if (Boolean.TRUE.equals(session.getAttribute(LOGGED_IN))) {
                counters.sessionClosed();
            }
        }
    }

    private static final Session.AttributeKey<Boolean> LOGGED_IN = new Session.AttributeKey<>();
}
