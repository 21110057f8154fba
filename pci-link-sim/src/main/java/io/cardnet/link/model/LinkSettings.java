package io.cardnet.link.model;

import java.util.Objects;

/**
 * Everything `cardnet link set` and `cardnet link fault` change, in one typed place: the PCIe model, the
 * ring depth (credits) and, per direction, interrupt coalescing and fault probabilities.
 */
public record LinkSettings(LinkProfile profile, int ringDepth, Coalescing h2c, Coalescing c2h,
                           FaultSettings faultsH2c, FaultSettings faultsC2h, int pollMicros) {
    public static final int MAX_RING = 4096;
    public static final LinkSettings DEFAULT = new LinkSettings(LinkProfile.UNLIMITED, 256, Coalescing.OFF,
            Coalescing.OFF, FaultSettings.NONE, FaultSettings.NONE, 1000);

    public LinkSettings {
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(h2c, "h2c");
        Objects.requireNonNull(c2h, "c2h");
        Objects.requireNonNull(faultsH2c, "faultsH2c");
        Objects.requireNonNull(faultsC2h, "faultsC2h");
        if (ringDepth < 1 || ringDepth > MAX_RING) {
            throw new IllegalArgumentException("ring depth must be 1.." + MAX_RING + " descriptors, was " + ringDepth);
        }
        if (pollMicros < 10 || pollMicros > 1_000_000) {
            throw new IllegalArgumentException("doorbell poll interval must be 10..1000000 µs, was " + pollMicros);
        }
    }

    /**
     * True when the ends can apply the whole link model themselves: no interrupt coalescing and no fault with a
     * probability (a paced profile is fine: each end's transmitter paces its own descriptors, as a real link's
     * does). Then descriptors need not cross the simulator at all (the direct rings).
     */
    public boolean endsApplyModel() {
        return h2c.off() && c2h.off() && quiet(faultsH2c) && quiet(faultsC2h);
    }

    private static boolean quiet(FaultSettings f) {
        return f.probabilities().values().stream().allMatch(p -> p == 0);
    }

    public Coalescing coalescing(io.cardnet.link.protocol.Direction d) {
        return d == io.cardnet.link.protocol.Direction.H2C ? h2c : c2h;
    }

    public FaultSettings faults(io.cardnet.link.protocol.Direction d) {
        return d == io.cardnet.link.protocol.Direction.H2C ? faultsH2c : faultsC2h;
    }

    public LinkSettings withProfile(LinkProfile p) {
        return new LinkSettings(p, ringDepth, h2c, c2h, faultsH2c, faultsC2h, pollMicros);
    }

    public LinkSettings withRingDepth(int depth) {
        return new LinkSettings(profile, depth, h2c, c2h, faultsH2c, faultsC2h, pollMicros);
    }

    public LinkSettings withCoalescing(io.cardnet.link.protocol.Direction d, Coalescing c) {
        return d == io.cardnet.link.protocol.Direction.H2C
                ? new LinkSettings(profile, ringDepth, c, c2h, faultsH2c, faultsC2h, pollMicros)
                : new LinkSettings(profile, ringDepth, h2c, c, faultsH2c, faultsC2h, pollMicros);
    }

    public LinkSettings withFaults(io.cardnet.link.protocol.Direction d, FaultSettings f) {
        return d == io.cardnet.link.protocol.Direction.H2C
                ? new LinkSettings(profile, ringDepth, h2c, c2h, f, faultsC2h, pollMicros)
                : new LinkSettings(profile, ringDepth, h2c, c2h, faultsH2c, f, pollMicros);
    }
}
