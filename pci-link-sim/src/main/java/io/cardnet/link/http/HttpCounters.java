package io.cardnet.link.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The counters every cardnet file server keeps under its prefix (cardnet.host.export, cardnet.card.httpd):
 * requests by status, body bytes sent, and refused requests by reason.
 */
public final class HttpCounters {
    private final MeterRegistry registry;
    private final String prefix;
    private final Counter bytesServed;

    public HttpCounters(MeterRegistry registry, String prefix) {
        this.registry = registry;
        this.prefix = prefix;
        this.bytesServed = Counter.builder(prefix + ".bytes.served").baseUnit("bytes")
                .description("body bytes sent to clients").register(registry);
    }

    public void status(int code) {
        Counter.builder(prefix + ".requests").tag("status", Integer.toString(code))
                .description("requests answered, by status").register(registry).increment();
    }

    public void refused(String reason) {
        Counter.builder(prefix + ".refused").tag("reason", reason)
                .description("requests or connections refused (traversal, symlink out, client, malformed, method)")
                .register(registry).increment();
    }

    public void served(long bytes) {
        bytesServed.increment(bytes);
    }

    public MeterRegistry registry() {
        return registry;
    }
}
