package io.cardnet.link.sim;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cardnet.link.model.LinkSettings;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Control-socket requests against a simulator that is built but never started (no ports, no ends, no capture):
 * any JSON object made of the known ops and fields, their values of any type, and junk, is answered, or refused
 * as {"error": reason}, and the answer is writable as JSON; nothing throws. Fuzzed with tools/fuzz
 * (docs/security.md).
 */
class LinkControlFuzzTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> OPS = List.of("status", "show", "set", "fault", "capture");
    private static final List<String> FIELDS = List.of("op", "model", "mps", "latencyNanos", "ringDepth",
            "pollMicros", "direction", "coalesceFrames", "coalesceMicros", "adaptive", "kind", "probability", "millis");
    private static final List<String> WORDS = List.of("gen1x1", "gen3x4", "gen5x16", "gen9x1", "unlimited", "h2c",
            "c2h", "both", "drop", "bitflip", "poison", "reorder", "lost-doorbell", "stall", "flap",
            "surprise-removal", "clear", "STALL", "");
    private static LinkSimulator sim;
    private static LinkControl control;

    @BeforeAll
    static void simulator() {
        sim = new LinkSimulator(new SimulatorConfig(new BusAddress.Unix(Path.of("/nonexistent/host.sock")),
                new BusAddress.Unix(Path.of("/nonexistent/card.sock")), null, Liveness.DEFAULT, 0), new SimpleMeterRegistry());
        control = new LinkControl(sim);
    }

    @AfterAll
    static void close() {
        sim.close();
    }

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void anyRequestIsAnsweredOrRefused(FuzzedDataProvider in) throws JsonProcessingException {
        sim.apply(LinkSettings.DEFAULT);
        ObjectNode request = NODES.objectNode();
        request.put("op", in.consumeBoolean() ? in.pickValue(OPS) : in.consumeString(12));
        int fields = in.consumeInt(0, 6);
        for (int i = 0; i < fields; i++) {
            request.set(in.consumeBoolean() ? in.pickValue(FIELDS) : in.consumeString(8), value(in, 2));
        }
        JsonNode asked = request.deepCopy();
        Object answer = control.handle(request);
        assertNotNull(answer, asked.toString());
        String text = JSON.writeValueAsString(answer);
        if (answer instanceof Map<?, ?> m && m.containsKey("error")) {
            assertTrue(m.get("error") instanceof String s && !s.isBlank(), asked + " refused without a reason: " + text);
        }
        assertFalse(text.isBlank());
    }

    /** A JSON value of any kind, biased toward the ones the ops expect. */
    private static JsonNode value(FuzzedDataProvider in, int depth) {
        return switch (in.consumeInt(0, depth > 0 ? 9 : 7)) {
            case 0 -> NODES.numberNode(in.consumeInt());
            case 1 -> NODES.numberNode(in.consumeLong());
            case 2 -> NODES.numberNode(in.consumeDouble());
            case 3 -> NODES.numberNode(in.consumeInt(-2, 700_000));
            case 4 -> NODES.textNode(in.pickValue(WORDS));
            case 5 -> NODES.textNode(in.consumeString(16));
            case 6 -> NODES.booleanNode(in.consumeBoolean());
            case 7 -> NODES.nullNode();
            case 8 -> {
                ArrayNode a = NODES.arrayNode();
                for (int i = in.consumeInt(0, 3); i > 0; i--) {
                    a.add(value(in, depth - 1));
                }
                yield a;
            }
            default -> NODES.objectNode().set(in.pickValue(FIELDS), value(in, depth - 1));
        };
    }
}
