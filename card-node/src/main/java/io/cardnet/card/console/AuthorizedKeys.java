package io.cardnet.card.console;

import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

/**
 * The console's only way in: a public key listed in one of the trusted authorized_keys files (the firmware's, the
 * lab's). The files are read at every attempt, so a key the lab installs later counts at once; a file that is
 * missing or has a line nobody can parse trusts the keys it can, and says which line was skipped.
 */
final class AuthorizedKeys implements PublickeyAuthenticator {
    private static final Logger log = LoggerFactory.getLogger(AuthorizedKeys.class);

    private final List<Path> files;
    private final ConsoleCounters counters;

    AuthorizedKeys(List<Path> files, ConsoleCounters counters) {
        this.files = List.copyOf(files);
        this.counters = counters;
    }

    @Override
    public boolean authenticate(String username, PublicKey key, ServerSession session) {
        boolean ok = ConsoleSettings.USER.equals(username) && trusted().stream().anyMatch(k -> KeyUtils.compareKeys(k, key));
        if (!ok) {
            counters.authRefused("publickey");
            log.info("console: refused {} key {} for user '{}' from {}", KeyUtils.getKeyType(key),
                    KeyUtils.getFingerPrint(key), username, session.getClientAddress());
        }
        return ok;
    }

    /** Every key of every file, as now on disk. */
    List<PublicKey> trusted() {
        List<PublicKey> keys = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isReadable(f)) {
                continue;
            }
            try {
                for (AuthorizedKeyEntry e : AuthorizedKeyEntry.readAuthorizedKeys(f)) {
                    try {
                        keys.add(e.resolvePublicKey(null, PublicKeyEntryResolver.IGNORING));
                    } catch (IOException | java.security.GeneralSecurityException | RuntimeException x) {
                        log.warn("console: {}: skipped a key ({}): {}", f, e.getKeyType(), x.getMessage());
                    }
                }
            } catch (IOException | RuntimeException x) {
                log.warn("console: cannot read {} ({}); its keys are not trusted until it is fixed", f, x.getMessage());
            }
        }
        keys.removeIf(java.util.Objects::isNull);
        return keys;
    }
}
