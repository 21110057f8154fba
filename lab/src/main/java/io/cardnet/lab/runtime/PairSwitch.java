package io.cardnet.lab.runtime;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Moves a pair's active role from one card to the other: the one sequence the monitor runs when the active is lost,
 * and `cardnet failover` and the hitless drill run on purpose. Serialised across processes by a lock on
 * RUN_DIR/pair.lock, so the monitor and a command never switch at once.
 *
 * <pre>
 *  lost active (unplanned)                     planned (both alive)
 *  1 fence: old eth0 down (block reception)    1 commit: conntrackd -c on the new active
 *  2 commit: conntrackd -c on the new active   2 wire up: new eth0 up (arp_notify: gratuitous ARP)
 *  3 wire up: new eth0 up (gratuitous ARP)     3 route: the host's wire route via the new toe
 *  4 route: the host's wire route via new toe  4 fence: old eth0 down
 *  then, off the clock: the new active's caches flushed and rebuilt from its kernel (-f, -R) and sent (-B)
 * </pre>
 *
 * In the planned order both cards hold the committed state while both eth0 are briefly up (one MAC: the wire's
 * bridge follows whichever spoke last), so a packet reaching either is forwarded; only then is the old one fenced.
 */
public final class PairSwitch {
    private PairSwitch() {
    }

    /** Runs {@code work} holding the pair's lock. */
    static <T> T locked(Path runDir, java.util.concurrent.Callable<T> work) throws IOException {
        try (FileChannel ch = FileChannel.open(runDir.resolve("pair.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock ignored = ch.lock()) {
            return work.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Makes card {@code to} the active. {@code detectedAt}: wall-clock ms the loss was seen or the switch asked
     * for. Returns the takeover as recorded in pair.json, or null if {@code to} already was the active.
     */
    public static PairState.Takeover takeover(Lab lab, int to, boolean planned, String reason, long detectedAt)
            throws IOException {
        return locked(lab.runDir(), () -> {
            PairState s = PairState.load(lab.runDir());
            if (s.active() == to) {
                return null;
            }
            int from = s.active();
            Map<String, Long> steps = new LinkedHashMap<>();
            long t = System.nanoTime();
            if (!planned) {
                t = step(steps, "fence card " + from + " (eth0 down)", t, () -> fence(lab, from));
            }
            t = step(steps, "commit synced state (conntrackd -c)", t, () -> conntrackd(lab, to).require("commit", "-c"));
            t = step(steps, "wire identity up (gratuitous ARP)", t,
                    () -> Shell.ipIn(lab.card(to).namespace(), "link", "set", LabNames.WIRE_DEVICE, "up"));
            t = step(steps, "host route via " + LabNames.hostDevice(to), t, () -> routeHostVia(lab, to));
            if (planned) {
                step(steps, "fence card " + from + " (eth0 down)", t, () -> fence(lab, from));
            }
            long done = System.currentTimeMillis();
            PairState.Takeover record = new PairState.Takeover(from, to, reason, planned, detectedAt, done, steps);
            PairState next = s.after(record, planned ? from : -1);
            next.save(lab.runDir());
            lab.progress(String.format("card %d is the active now (%s; %d ms after %s)", to, reason,
                    done - detectedAt, planned ? "asked" : "detection"));
            // Off the clock: the new active's internal cache from its kernel, sent to the other; a planned switch's old
            // active forgets its kernel's entries and takes the new active's as its external cache.
            Conntrackd c = conntrackd(lab, to);
            c.request("-f");
            c.request("-R");
            c.request("-B");
            if (planned) {
                resyncAsStandby(lab, from);
            }
            return record;
        });
    }

    private interface Step {
        void run() throws Exception;
    }

    private static long step(Map<String, Long> steps, String name, long from, Step s) throws Exception {
        s.run();
        long now = System.nanoTime();
        steps.put(name, (now - from) / 1_000_000);
        return now;
    }

    /** Blocks the card's reception on the wire: its eth0 goes down (the wire's bridge port loses carrier). */
    static void fence(Lab lab, int k) throws IOException {
        Shell.ipIn(lab.card(k).namespace(), "link", "set", LabNames.WIRE_DEVICE, "down");
    }

    /** The host's route to the wire through card {@code k}, with the host's wire identity as its source. */
    static void routeHostVia(Lab lab, int k) throws IOException {
        LabCard c = lab.card(k);
        Shell.ipIn(lab.hostNamespace(), "route", "replace", c.addresses().wireSubnet(), "via", c.cardAddress(), "dev",
                c.hostDevice(), "src", PairPlan.HOST_ROUTED);
    }

    /** The card's route back to the host's wire identity, across its own link (host0 is new with every card-node). */
    static void routeCardToHost(Lab lab, int k) throws IOException {
        LabCard c = lab.card(k);
        Shell.ipIn(c.namespace(), "route", "replace", PairPlan.HOST_NET, "via", c.hostAddress(), "dev",
                LabNames.CARD_DEVICE);
    }

    static Conntrackd conntrackd(Lab lab, int k) {
        return new Conntrackd(lab.runDir(), k, lab.card(k).namespace());
    }

    /**
     * Card {@code k} (fenced, its card-node up) becomes the standby: its route back to the host again, its kernel's
     * stale entries and its caches flushed, and a full copy of the active's state asked for.
     */
    static void becomeStandby(Lab lab, int k) throws IOException {
        locked(lab.runDir(), () -> {
            PairState s = PairState.load(lab.runDir());
            if (s.active() == k || s.standby() == k) {
                return null;
            }
            fence(lab, k);
            routeCardToHost(lab, k);
            resyncAsStandby(lab, k);
            s.withStandby(k).save(lab.runDir());
            lab.progress("card " + k + " is back: the standby now, its state synced from card " + s.active());
            return null;
        });
    }

    private static void resyncAsStandby(Lab lab, int k) throws IOException {
        Conntrackd c = conntrackd(lab, k);
        c.request("-F");
        c.request("-f");
        c.request("-n");
    }
}
