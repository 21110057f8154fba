package io.cardnet.card.console;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicInteger;

/** The console's metrics: sessions, refused logins by method, refused key exchanges, SFTP paths denied. */
final class ConsoleCounters {
    private final MeterRegistry registry;
    private final Counter opened;
    private final Counter kexRefused;
    private final Counter sftpDenied;
    private final AtomicInteger open = new AtomicInteger();

    ConsoleCounters(MeterRegistry registry) {
        this.registry = registry;
        opened = Counter.builder("cardnet.card.console.sessions.opened")
                .description("SSH sessions that logged in to the card's console").register(registry);
        Gauge.builder("cardnet.card.console.sessions", open, AtomicInteger::get)
                .description("SSH sessions logged in to the card's console now").register(registry);
        kexRefused = Counter.builder("cardnet.card.console.kex.refused")
                .description("connections whose client offered no key exchange, cipher or MAC the console allows")
                .register(registry);
        sftpDenied = Counter.builder("cardnet.card.console.sftp.denied")
                .description("SFTP paths refused because they climb above the virtual root").register(registry);
        // Present from the start (at 0), so a dashboard shows the methods before anyone tries one.
        for (String m : new String[] {"publickey", "password", "keyboard-interactive"}) {
            authRefused(m, 0);
        }
    }

    void sessionOpened() {
        opened.increment();
        open.incrementAndGet();
    }

    void sessionClosed() {
        open.decrementAndGet();
    }

    void authRefused(String method) {
        authRefused(method, 1);
    }

    private void authRefused(String method, double n) {
        Counter.builder("cardnet.card.console.auth.refused").tag("method", method)
                .description("login attempts the console refused, by SSH authentication method").register(registry)
                .increment(n);
    }

    void kexRefused() {
        kexRefused.increment();
    }

    void sftpDenied() {
        sftpDenied.increment();
    }
}
