package io.cardnet.link.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.link.model.Coalescing;
import io.cardnet.link.model.FaultKind;
import io.cardnet.link.model.FaultSettings;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.model.TlpModel;
import io.cardnet.link.protocol.Direction;

import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The control socket's operations on a running simulator, from JSON requests to typed settings:
 *
 * <pre>
 *  {"op":"status"}
 *  {"op":"show"}
 *  {"op":"set", "model":"gen3x4", "mps":256, "latencyNanos":1000, "ringDepth":256, "pollMicros":1000,
 *               "direction":"h2c|c2h|both", "coalesceFrames":64, "coalesceMicros":50, "adaptive":true}
 *  {"op":"fault", "kind":"drop|bitflip|poison|reorder|lost-doorbell", "probability":0.01, "direction":"both"}
 *  {"op":"fault", "kind":"stall|flap|surprise-removal", "millis":2000, "direction":"h2c"}
 *  {"op":"fault", "kind":"clear"}
 * </pre>
 *
 * Invalid requests are refused whole, with a message naming the allowed values; the link keeps running.
 */
final class LinkControl {
    static final List<String> OPS = List.of("status", "show", "set", "fault", "capture");
    private final LinkSimulator sim;

    LinkControl(LinkSimulator sim) {
        this.sim = sim;
    }

    LinkSimulator simulator() {
        return sim;
    }

    boolean capturing() {
        return sim.capturing();
    }

    Object handle(JsonNode request) {
        String op = request == null ? "" : request.path("op").asText("");
        try {
            return switch (op) {
                case "status" -> sim.status();
                case "show" -> show();
                case "set" -> {
                    sim.apply(set(sim.settings(), request));
                    yield show();
                }
                case "fault" -> {
                    fault(request);
                    yield show();
                }
                default -> Map.of("error", "unknown op '" + op + "'; ops: " + String.join(", ", OPS));
            };
        } catch (IllegalArgumentException e) {
            return Map.of("error", e.getMessage());
        }
    }

    private Map<String, Object> show() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("settings", view(sim.settings()));
        out.put("status", sim.status());
        return out;
    }

    /** The settings as people read them (and as `cardnet link show --json` prints them). */
    static Map<String, Object> view(LinkSettings s) {
        Map<String, Object> m = new LinkedHashMap<>();
        LinkProfile p = s.profile();
        m.put("model", p.name());
        if (p.paced()) {
            m.put("generation", p.generation().number());
            m.put("lanes", p.lanes());
            m.put("encoding", p.generation().encoding());
            m.put("mps", p.maxPayload());
            m.put("latencyNanos", p.latency().toNanos());
            m.put("rawGbps", p.bitsPerSecond() / 1e9);
            TlpModel model = new TlpModel(p);
            m.put("predictedGbpsFor64kPackets", model.packetBytesPerSecond(65535, 32) * 8 / 1e9);
        }
        m.put("ringDepth", s.ringDepth());
        m.put("pollMicros", s.pollMicros());
        Map<String, Object> coalescing = new LinkedHashMap<>();
        Map<String, Object> faults = new LinkedHashMap<>();
        for (Direction d : Direction.values()) {
            Coalescing c = s.coalescing(d);
            coalescing.put(d.tag(), Map.of("frames", c.maxFrames(), "micros", c.maxMicros(), "adaptive", c.adaptive()));
            Map<String, Double> f = new LinkedHashMap<>();
            s.faults(d).probabilities().forEach((k, v) -> f.put(k.cliName(), v));
            faults.put(d.tag(), f);
        }
        m.put("coalescing", coalescing);
        m.put("faults", faults);
        return m;
    }

    static Set<Direction> directions(JsonNode request) {
        String d = request.path("direction").asText("both");
        return switch (d) {
            case "both" -> EnumSet.allOf(Direction.class);
            case "h2c" -> EnumSet.of(Direction.H2C);
            case "c2h" -> EnumSet.of(Direction.C2H);
            default -> throw new IllegalArgumentException("direction must be h2c, c2h or both, not '" + d + "'");
        };
    }

    /** Builds the new settings from a "set" request; nothing changes unless all of it is valid. */
    static LinkSettings set(LinkSettings s, JsonNode r) {
        LinkSettings next = s;
        if (r.has("model")) {
            LinkProfile p = LinkProfile.parse(r.get("model").asText());
            if (p.paced() && s.profile().paced()) {
                p = p.withMaxPayload(s.profile().maxPayload()).withLatency(s.profile().latency());
            }
            next = next.withProfile(p);
        }
        if (r.has("mps") || r.has("latencyNanos")) {
            LinkProfile p = next.profile();
            if (!p.paced()) {
                throw new IllegalArgumentException("the unlimited link has no max payload size or latency; pick a model"
                        + " first, e.g. --model gen3x4");
            }
            if (r.has("mps")) {
                p = p.withMaxPayload(integer(r, "mps"));
            }
            if (r.has("latencyNanos")) {
                p = p.withLatency(Duration.ofNanos(integer(r, "latencyNanos")));
            }
            next = next.withProfile(p);
        }
        if (r.has("ringDepth")) {
            next = next.withRingDepth(integer(r, "ringDepth"));
        }
        if (r.has("pollMicros")) {
            next = new LinkSettings(next.profile(), next.ringDepth(), next.h2c(), next.c2h(), next.faultsH2c(),
                    next.faultsC2h(), integer(r, "pollMicros"));
        }
        if (r.has("coalesceFrames") || r.has("coalesceMicros") || r.has("adaptive")) {
            for (Direction d : directions(r)) {
                Coalescing c = next.coalescing(d);
                next = next.withCoalescing(d, new Coalescing(
                        r.has("coalesceFrames") ? integer(r, "coalesceFrames") : c.maxFrames(),
                        r.has("coalesceMicros") ? integer(r, "coalesceMicros") : c.maxMicros(),
                        r.has("adaptive") ? r.get("adaptive").asBoolean() : c.adaptive()));
            }
        }
        return next;
    }

    private void fault(JsonNode r) {
        String kindText = r.path("kind").asText("");
        if (kindText.equals("clear")) {
            LinkSettings s = sim.settings();
            sim.apply(s.withFaults(Direction.H2C, FaultSettings.NONE).withFaults(Direction.C2H, FaultSettings.NONE));
            return;
        }
        FaultKind kind = FaultKind.parse(kindText);
        if (kind.probabilistic()) {
            if (!r.has("probability")) {
                throw new IllegalArgumentException(kind.cliName() + " needs a probability between 0 and 1");
            }
            double p = r.get("probability").asDouble(Double.NaN);
            if (!r.get("probability").isNumber() || !(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException(kind.cliName() + " probability must be between 0 and 1, was "
                        + r.get("probability").asText());
            }
            LinkSettings next = sim.settings();
            for (Direction d : directions(r)) {
                next = next.withFaults(d, next.faults(d).with(kind, p));
            }
            sim.apply(next);
            return;
        }
        long millis = r.path("millis").asLong(-1);
        if (!r.path("millis").isIntegralNumber() || millis < 0 || millis > 600_000) {
            throw new IllegalArgumentException(kind.cliName() + " needs a duration of 0..600000 ms");
        }
        for (Direction d : kind == FaultKind.STALL ? directions(r) : EnumSet.of(Direction.H2C)) {
            sim.inject(kind, d, millis);
        }
    }

    private static int integer(JsonNode r, String field) {
        JsonNode v = r.get(field);
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException(field + " must be a whole number, not '" + v.asText() + "'");
        }
        long x = v.asLong();
        if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(field + " is out of range: " + x);
        }
        return (int) x;
    }
}
