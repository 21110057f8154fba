package io.cardnet.link.sim;

import java.util.Map;

/**
 * What {@code cardnet lab status} shows of the bus: link state, both ports, traffic per direction (and per queue
 * pair, "h2c/0", on the direct rings), and every drop, fault and transition counter by name
 * ("drop/h2c/link_down", "fault/card/oversize", ...).
 */
public record LinkStatus(String state, String since, long epoch, int maxPacket, String features, int queues,
                         Map<String, Port> ports, Map<String, Traffic> traffic, Map<String, Traffic> queueTraffic,
                         Map<String, Double> counters, long corruptedChecksums) {

    public record Port(String address, boolean attached, boolean trained) {
    }

    public record Traffic(long frames, long bytes) {
    }
}
