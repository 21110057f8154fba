package io.cardnet.lab.drill;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.netdev.NetNamespace;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * What a drill needs of a lab, whichever runtime runs it: where the host, the card and the wire peer live (as
 * network namespaces the drill can enter), the bus's link state, and the card's firmware slots.
 * {@link LabTarget} is the embedded lab (its card a namespace or a VM); {@link ComposeTarget} the `docker compose` lab.
 */
public interface DrillTarget {
    /** For reports: the lab's name, or the compose project. */
    String name();

    /** The host side's namespace, or null for the caller's own. */
    String hostNamespace();

    String cardNamespace();

    String wireNamespace();

    String hostAddress();

    String cardAddress();

    String peerAddress();

    /** The bus's link status (the simulator's control socket). */
    JsonNode linkStatus() throws IOException;

    /** The card's slots now. */
    LabState.FirmwareSlots slots();

    /** Puts a firmware (already checked) into {@code slot}; returns it as the card will boot it. */
    Firmware install(String slot, Firmware firmware) throws IOException;

    /** The firmware in {@code slot}, for its health checks. */
    Firmware firmware(String slot) throws IOException;

    /** Reboots the card into {@code slot}: a new card, no state of the old one left. */
    void reboot(String slot) throws IOException;

    /**
     * Runs {@code argv} on the card, whatever it runs on: its namespace, its container, or inside its VM (where
     * the card's namespace on this machine holds only its cable, so nothing else may look into it).
     */
    io.cardnet.lab.runtime.ExecResult execOnCard(java.util.List<String> argv, java.time.Duration timeout)
            throws IOException;

    /** The kernel the card runs: {@code uname -r} on the card, or why it could not tell. */
    default String kernel() {
        try {
            io.cardnet.lab.runtime.ExecResult r = execOnCard(java.util.List.of("uname", "-r"), java.time.Duration.ofSeconds(20));
            return r.ok() ? r.stdout().strip() : "unknown (" + r.output() + ")";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /**
     * The drill's background flows, in bytes per second: slow enough to leave the CPUs to the swap and to stay
     * below what the card forwards (a TCG card VM forwards host → wire at ~3 MB/s), so a flow writes on both sides of
     * the swap instead of waiting on a full send buffer.
     */
    record TrafficPace(long routedBytesPerSecond, long cardBytesPerSecond) {
        public static final TrafficPace NATIVE = new TrafficPace(8L << 20, 2L << 20);
        public static final TrafficPace EMULATED = new TrafficPace(1L << 20, 256L << 10);
    }

    default TrafficPace trafficPace() {
        return TrafficPace.NATIVE;
    }

    /** How long a new firmware gets by default to pass its health checks. */
    default java.time.Duration defaultWatchdog() {
        return java.time.Duration.ofSeconds(30);
    }

    /** Runs {@code work} on the host side. */
    default <T> T onHostSide(Callable<T> work) throws Exception {
        return hostNamespace() == null ? work.call() : NetNamespace.call(hostNamespace(), work);
    }

    /** Called once the drill is over, whatever happened. */
    default void done() {
    }
}
