package io.cardnet.link.model;

/**
 * PCIe generations: raw signalling rate per lane and line encoding (PCI Express Base Specification:
 * Gen1/2 use 8b/10b, Gen3 and later 128b/130b).
 */
public enum PcieGeneration {
    GEN1(2.5e9, 8, 10, 2),
    GEN2(5.0e9, 8, 10, 2),
    GEN3(8.0e9, 128, 130, 4),
    GEN4(16.0e9, 128, 130, 4),
    GEN5(32.0e9, 128, 130, 4);

    private final double transfersPerSecond;
    private final int encodedData;
    private final int encodedTotal;
    private final int framingBytes;

    PcieGeneration(double transfersPerSecond, int encodedData, int encodedTotal, int framingBytes) {
        this.transfersPerSecond = transfersPerSecond;
        this.encodedData = encodedData;
        this.encodedTotal = encodedTotal;
        this.framingBytes = framingBytes;
    }

    public int number() {
        return ordinal() + 1;
    }

    /** Data bits per second per lane after line encoding, e.g. 2.0e9 for Gen1, 7.877e9 for Gen3. */
    public double bitsPerSecondPerLane() {
        return transfersPerSecond * encodedData / encodedTotal;
    }

    /**
     * Physical-layer framing per TLP: Gen1/2 wrap a TLP in STP and END symbols (1 byte each); Gen3+ start it
     * with a 4-byte STP token (which also carries the sequence number and length) and need no END.
     */
    public int framingBytes() {
        return framingBytes;
    }

    /** Bytes of data-link sequence number outside the framing: 2 for Gen1/2, inside the STP token for Gen3+. */
    public int sequenceBytes() {
        return this.ordinal() <= GEN2.ordinal() ? 2 : 0;
    }

    public String encoding() {
        return encodedData + "b/" + encodedTotal + "b";
    }

    public static PcieGeneration of(int n) {
        if (n < 1 || n > 5) {
            throw new IllegalArgumentException("PCIe generation must be 1..5, was " + n);
        }
        return values()[n - 1];
    }
}
