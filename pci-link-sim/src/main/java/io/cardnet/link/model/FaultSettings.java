package io.cardnet.link.model;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** Probabilities of the probabilistic faults for one direction; 0 means off. */
public record FaultSettings(Map<FaultKind, Double> probabilities) {
    public static final FaultSettings NONE = new FaultSettings(Map.of());

    public FaultSettings {
        EnumMap<FaultKind, Double> copy = new EnumMap<>(FaultKind.class);
        probabilities.forEach((k, p) -> {
            if (!k.probabilistic()) {
                throw new IllegalArgumentException(k.cliName() + " is a one-shot fault: give it --ms, not a probability");
            }
            if (p == null || !(p >= 0 && p <= 1)) {
                throw new IllegalArgumentException(k.cliName() + " probability must be between 0 and 1, was " + p);
            }
            if (p > 0) {
                copy.put(k, p);
            }
        });
        probabilities = Collections.unmodifiableMap(copy);
    }

    public double probability(FaultKind k) {
        return probabilities.getOrDefault(k, 0.0);
    }

    public FaultSettings with(FaultKind k, double p) {
        EnumMap<FaultKind, Double> next = new EnumMap<>(FaultKind.class);
        next.putAll(probabilities);
        next.put(k, p);
        return new FaultSettings(next);
    }
}
