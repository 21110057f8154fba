package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Who is what in a pair, kept in RUN_DIR/pair.json: the monitor, `cardnet failover` and drills read and write it
 * (under {@link PairSwitch}'s lock).
 *
 * @param active     the card whose eth0 is up and whose toe the host's route to the wire goes through
 * @param standby    the card that holds the synced state, eth0 down; -1 while the other card is failed
 * @param generation +1 per takeover
 * @param monitorPid the monitor's pid once it watches (0 before)
 * @param takeovers  every takeover, oldest first
 */
public record PairState(int active, int standby, int generation, long monitorPid, List<Takeover> takeovers) {

    /**
     * One takeover. Wall-clock ms (this machine's clock, shared by every process of the lab).
     *
     * @param detectedAt when the loss was seen (the monitor's poll) or the switch asked for (forced/planned)
     * @param doneAt     when the host's route pointed at the new active and its eth0 was up
     * @param steps      ms each step took, in order (fence, commit, wire up, route)
     */
    public record Takeover(int from, int to, String reason, boolean planned, long detectedAt, long doneAt,
                           java.util.Map<String, Long> steps) {
        public long takeoverMillis() {
            return doneAt - detectedAt;
        }
    }

    public static PairState initial() {
        return new PairState(0, 1, 0, 0, List.of());
    }

    public static Path file(Path runDir) {
        return runDir.resolve("pair.json");
    }

    public static boolean exists(Path runDir) {
        return Files.exists(file(runDir));
    }

    public PairState withMonitor(long pid) {
        return new PairState(active, standby, generation, pid, takeovers);
    }

    public PairState withStandby(int k) {
        return new PairState(active, k, generation, monitorPid, takeovers);
    }

    public PairState after(Takeover t, int newStandby) {
        List<Takeover> all = new ArrayList<>(takeovers);
        all.add(t);
        return new PairState(t.to(), newStandby, generation + 1, monitorPid, all);
    }

    public Takeover last() {
        return takeovers.isEmpty() ? null : takeovers.getLast();
    }

    public void save(Path runDir) throws IOException {
        Path tmp = runDir.resolve("pair.json.tmp");
        LabState.JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, file(runDir), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static PairState load(Path runDir) throws IOException {
        if (!exists(runDir)) {
            throw new LabException("this lab is no failover pair (no " + file(runDir) + "); start one with"
                    + " `cardnet lab up --cards 2 --pair`");
        }
        return LabState.JSON.readValue(file(runDir).toFile(), PairState.class);
    }
}
