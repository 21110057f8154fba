package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** `cardnet link show` for people: the model, the rings, coalescing, faults, then the counters. */
final class LinkText {
    private LinkText() {
    }

    static String describe(JsonNode answer) {
        JsonNode s = answer.path("settings");
        JsonNode st = answer.path("status");
        StringBuilder b = new StringBuilder();
        if (s.path("model").asText().equals("unlimited")) {
            b.append("model      unlimited (no pacing: as fast as the emulator moves descriptors)\n");
        } else {
            b.append(String.format("model      %s: Gen%d x%d, %s, %.2f Gb/s raw, MPS %d, latency %d ns%n",
                    s.path("model").asText(), s.path("generation").asInt(), s.path("lanes").asInt(),
                    s.path("encoding").asText(), s.path("rawGbps").asDouble(), s.path("mps").asInt(),
                    s.path("latencyNanos").asLong()));
            b.append(String.format("           predicts %.2f Gb/s of 64 KiB packets%n",
                    s.path("predictedGbpsFor64kPackets").asDouble()));
        }
        b.append(String.format("rings      %d descriptors each way (credits), doorbell poll %d µs%n",
                s.path("ringDepth").asInt(), s.path("pollMicros").asInt()));
        s.path("coalescing").properties().forEach(e -> b.append(String.format(
                "coalescing %s: %d frames / %d µs%s%n", e.getKey(), e.getValue().path("frames").asInt(),
                e.getValue().path("micros").asInt(), e.getValue().path("adaptive").asBoolean() ? ", adaptive" : "")));
        s.path("faults").properties().forEach(e -> b.append(String.format("faults     %s: %s%n", e.getKey(),
                e.getValue().isEmpty() ? "none" : e.getValue().toString())));
        b.append(String.format("link       %s since %s, epoch %d, features %s%n", st.path("state").asText(),
                st.path("since").asText(), st.path("epoch").asLong(), st.path("features").asText()));
        if (st.path("state").asText().equals("UP")) {
            String features = st.path("features").asText();
            b.append(String.format("descriptors %s%n", features.contains("direct-ring")
                    ? "in shared rings, end to end (each end's transmitter paces its own): the simulator trains and"
                    + " watches the link, no descriptor crosses it"
                    : features.contains("shared-memory")
                    ? "through the simulator (it coalesces, faults or captures each one)"
                    : "inside the bus frames, through the simulator"));
        }
        st.path("traffic").properties().forEach(e -> b.append(String.format("traffic    %s %,d frames %,d bytes%n",
                e.getKey(), e.getValue().path("frames").asLong(), e.getValue().path("bytes").asLong())));
        if (st.path("queues").asInt() > 0) {
            b.append(String.format("queues     %d queue pair%s in use%n", st.path("queues").asInt(),
                    st.path("queues").asInt() == 1 ? "" : "s"));
        }
        st.path("queueTraffic").properties().forEach(e -> b.append(String.format("  queue %-6s %,d frames %,d bytes%n",
                e.getKey(), e.getValue().path("frames").asLong(), e.getValue().path("bytes").asLong())));
        st.path("counters").properties().forEach(e -> b.append(String.format("  %-40s %,d%n", e.getKey(),
                e.getValue().asLong())));
        return b.toString();
    }
}
