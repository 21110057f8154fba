package io.cardnet.card.console;

import org.apache.sshd.common.Service;
import org.apache.sshd.common.auth.AbstractUserAuthServiceFactory;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.server.session.ServerUserAuthService;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * MINA's user-auth service, counting the requests it will refuse because their method is not offered (a client
 * sending a password or keyboard-interactive request anyway). Only public keys are offered; "none" is every
 * client's opening question and not counted; refused keys are counted by {@link AuthorizedKeys}.
 */
final class CountingUserAuthService extends ServerUserAuthService {
    /** Methods counted by name; anything else a client invents is counted as "other" (bounded tag values). */
    private static final Set<String> KNOWN = Set.of("password", "keyboard-interactive", "hostbased", "gssapi-with-mic");

    private final ConsoleCounters counters;

    private CountingUserAuthService(Session s, ConsoleCounters counters) throws IOException {
        super(s);
        this.counters = counters;
    }

    @Override
    protected boolean handleUserAuthRequestMessage(ServerSession session, Buffer buffer, AtomicReference<Boolean> auth)
            throws Exception {
        int start = buffer.rpos();
        buffer.getString(); // user
        buffer.getString(); // service
        String method = buffer.getString();
        buffer.rpos(start);
        if (!"publickey".equals(method) && !"none".equals(method)) {
            counters.authRefused(KNOWN.contains(method) ? method : "other");
        }
        return super.handleUserAuthRequestMessage(session, buffer, auth);
    }

    static final class Factory extends AbstractUserAuthServiceFactory {
        private final ConsoleCounters counters;

        Factory(ConsoleCounters counters) {
            this.counters = counters;
        }

        @Override
        public Service create(Session session) throws IOException {
            return new CountingUserAuthService(session, counters);
        }
    }
}
