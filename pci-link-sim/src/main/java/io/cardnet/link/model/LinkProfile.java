package io.cardnet.link.model;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the bus is: {@code unlimited} (no pacing: as fast as the emulator moves descriptors) or a PCIe link
 * {@code genGxL} paced by {@link TlpModel}, with a max payload size and a one-way latency.
 *
 * @param generation      null for unlimited
 * @param lanes           1, 2, 4, 8 or 16
 * @param maxPayload      MPS in bytes: 128, 256, 512, 1024, 2048 or 4096
 * @param latency         one-way latency added to every descriptor (not to the link's occupancy)
 */
public record LinkProfile(PcieGeneration generation, int lanes, int maxPayload, Duration latency) {
    public static final LinkProfile UNLIMITED = new LinkProfile(null, 0, 0, Duration.ZERO);
    public static final int DEFAULT_MPS = 256;
    public static final Duration DEFAULT_LATENCY = Duration.ofNanos(1000);
    private static final Pattern NAME = Pattern.compile("gen([0-9]+)x([0-9]+)");
    public static final String NAMES = "unlimited, or genGxL with G 1..5 and L 1, 2, 4, 8 or 16 (e.g. gen3x4)";

    public LinkProfile {
        if (generation != null) {
            if (lanes != 1 && lanes != 2 && lanes != 4 && lanes != 8 && lanes != 16) {
                throw new IllegalArgumentException("lanes must be 1, 2, 4, 8 or 16, was " + lanes);
            }
            if (maxPayload < 128 || maxPayload > 4096 || Integer.bitCount(maxPayload) != 1) {
                throw new IllegalArgumentException("max payload size must be 128, 256, 512, 1024, 2048 or 4096 bytes, was "
                        + maxPayload);
            }
            if (latency == null || latency.isNegative()) {
                throw new IllegalArgumentException("latency must be zero or positive");
            }
        }
    }

    public boolean paced() {
        return generation != null;
    }

    /** "unlimited" or e.g. "gen3x4". */
    public String name() {
        return paced() ? "gen" + generation.number() + "x" + lanes : "unlimited";
    }

    /** Parses a model name; MPS and latency take their defaults. */
    public static LinkProfile parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("unlimited")) {
            return UNLIMITED;
        }
        Matcher m = NAME.matcher(n);
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown link model '" + name + "'; models: " + NAMES);
        }
        int gen = Integer.parseInt(m.group(1));
        if (gen < 1 || gen > 5) {
            throw new IllegalArgumentException("unknown link model '" + name + "': PCIe generations are 1..5; models: " + NAMES);
        }
        return new LinkProfile(PcieGeneration.of(gen), Integer.parseInt(m.group(2)), DEFAULT_MPS, DEFAULT_LATENCY);
    }

    public LinkProfile withMaxPayload(int mps) {
        return new LinkProfile(generation, lanes, mps, latency);
    }

    public LinkProfile withLatency(Duration l) {
        return new LinkProfile(generation, lanes, maxPayload, l);
    }

    /** Data bits per second of the whole link after encoding (lanes × per-lane rate); infinite if unlimited. */
    public double bitsPerSecond() {
        return paced() ? generation.bitsPerSecondPerLane() * lanes : Double.POSITIVE_INFINITY;
    }
}
