package io.cardnet.card.relay;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.concurrent.atomic.AtomicInteger;

/** The relay's metrics: connections open, total and refused (by reason), bytes per side, bytes per way of moving them. */
final class RelayCounters {
    final AtomicInteger open = new AtomicInteger();
    final Counter total;
    final Counter refusedFull;
    final Counter refusedOnward;
    final Counter resets;
    final Counter fromHost;
    final Counter fromWire;
    final Counter copied;
    final Counter spliced;

    RelayCounters(MeterRegistry r) {
        Gauge.builder("cardnet.card.relay.connections.open", open, AtomicInteger::get)
                .description("host connections the relay holds now").register(r);
        total = Counter.builder("cardnet.card.relay.connections")
                .description("host connections the relay accepted and continued toward the wire").register(r);
        refusedFull = refused(r, "full", "the card held --relay-max-connections already: refused with a RST");
        refusedOnward = refused(r, "onward", "the wire peer refused or did not answer the onward connection: the host's was reset");
        resets = Counter.builder("cardnet.card.relay.resets")
                .description("relayed connections one side reset; the relay reset the other").register(r);
        fromHost = bytes(r, "host");
        fromWire = bytes(r, "wire");
        // With --relay-move splice (the default) nearly every byte is spliced; copy counts only what the host sent
        // before the onward connection was up (read into user space then, see RelayedConnection.Early). With
        // --relay-move copy every byte is copied and splice stays 0.
        copied = moved(r, "copy", "bytes moved through the relay's buffers (read into user space, written out)");
        spliced = moved(r, "splice", "bytes moved by splice(2), socket to pipe to socket, in the card's kernel");
    }

    private static Counter refused(MeterRegistry r, String reason, String description) {
        return Counter.builder("cardnet.card.relay.refused").tag("reason", reason).description(description).register(r);
    }

    private static Counter bytes(MeterRegistry r, String side) {
        return Counter.builder("cardnet.card.relay.bytes").baseUnit("bytes").tag("from", side)
                .description("bytes the relay received from this side and passed on").register(r);
    }

    private static Counter moved(MeterRegistry r, String method, String description) {
        return Counter.builder("cardnet.card.relay.moved.bytes").baseUnit("bytes").tag("method", method)
                .description(description).register(r);
    }
}
