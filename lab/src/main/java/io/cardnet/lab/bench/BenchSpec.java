package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.port.ChecksumMode;

import java.util.ArrayList;
import java.util.List;

/**
 * A sendfile benchmark: the matrix (each a list; the cases are every combination), how much to send, how often,
 * and the check the timed runs use ({@code verify}).
 */
public record BenchSpec(List<Integer> mtus, List<Boolean> offloads, List<ChecksumMode> csums, List<String> links,
                        List<String> directions, long size, int runs, int warmup, IntegrityCheck verify) {
    public BenchSpec {
        mtus = List.copyOf(mtus);
        offloads = List.copyOf(offloads);
        csums = List.copyOf(csums);
        links = List.copyOf(links);
        directions = List.copyOf(directions);
        for (int mtu : mtus) {
            if (mtu < 576 || mtu > 65535) {
                throw new IllegalArgumentException("--mtu values must be 576..65535, not " + mtu);
            }
        }
        for (String l : links) {
            LinkProfile.parse(l);
        }
        for (String d : directions) {
            if (!d.equals("h2c") && !d.equals("c2h")) {
                throw new IllegalArgumentException("--direction takes h2c and/or c2h, not '" + d + "'");
            }
        }
        if (mtus.isEmpty() || offloads.isEmpty() || csums.isEmpty() || links.isEmpty() || directions.isEmpty()) {
            throw new IllegalArgumentException("every matrix option needs at least one value");
        }
        if (size < 1 << 20) {
            throw new IllegalArgumentException("--size must be at least 1M, was " + size);
        }
        if (runs < 1 || warmup < 0) {
            throw new IllegalArgumentException("--runs must be at least 1 and --warmup at least 0");
        }
    }

    /**
     * How many transfers a series (a case, or a reference path) makes: at least one untimed, then the timed runs.
     * The first untimed one is always SHA-256-checked end to end (see {@link #check(int)}).
     */
    public int transfers() {
        return untimed() + runs;
    }

    /** True if transfer {@code i} of a series is timed; the ones before are warm-up. */
    public boolean timed(int i) {
        return i >= untimed();
    }

    /**
     * The check of transfer {@code i}: SHA-256 for the first, which is untimed, so every case proves its bytes with
     * a cryptographic digest without SHA-256's cost landing in a timed run; {@link #verify} for the rest.
     */
    public IntegrityCheck check(int i) {
        return i == 0 ? IntegrityCheck.SHA256 : verify;
    }

    private int untimed() {
        return Math.max(1, warmup);
    }

    /** Every combination, grouped so that cases sharing a lab (checksum mode, offload) run together. */
    public List<BenchCase> cases() {
        List<BenchCase> out = new ArrayList<>();
        for (ChecksumMode c : csums) {
            for (boolean o : offloads) {
                for (String l : links) {
                    for (int m : mtus) {
                        for (String d : directions) {
                            out.add(new BenchCase(m, o, c, l, d));
                        }
                    }
                }
            }
        }
        return out;
    }
}
