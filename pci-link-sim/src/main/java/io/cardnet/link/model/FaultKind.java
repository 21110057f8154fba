package io.cardnet.link.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The faults the bus can inject, switchable at run time. */
public enum FaultKind {
    /** lose a descriptor, with a probability (counted as a drop) */
    DROP(true, false),
    /** flip a bit before the link CRC: detected and replayed, like the PCIe data-link layer; nothing corrupt arrives */
    BITFLIP(true, false),
    /** flip a bit after the CRC (a poisoned buffer): delivered corrupt, as the consumer's checksum policy allows */
    POISON(true, false),
    /** deliver a descriptor after the one behind it */
    REORDER(true, false),
    /** lose a doorbell: the descriptors wait for the engine's poll timer */
    LOST_DOORBELL(true, false),
    /** stop the DMA engine for a while (one shot) */
    STALL(false, true),
    /** take the link down and retrain it after a while (one shot) */
    FLAP(false, true),
    /** yank the card: its connection drops and it cannot re-attach for a while (one shot) */
    SURPRISE_REMOVAL(false, true);

    private final boolean probabilistic;
    private final boolean timed;

    FaultKind(boolean probabilistic, boolean timed) {
        this.probabilistic = probabilistic;
        this.timed = timed;
    }

    public boolean probabilistic() {
        return probabilistic;
    }

    public boolean timed() {
        return timed;
    }

    /** The name on the command line and in metrics: "lost-doorbell". */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static String names() {
        return Arrays.stream(values()).map(FaultKind::cliName).collect(Collectors.joining(", "));
    }

    public static FaultKind parse(String text) {
        for (FaultKind k : values()) {
            if (k.cliName().equals(text.toLowerCase(Locale.ROOT)) || k.name().equalsIgnoreCase(text)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown fault '" + text + "'; faults: " + names() + ", or clear");
    }
}
