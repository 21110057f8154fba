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
 * {@link NetnsTarget} is the embedded lab; {@link ComposeTarget} the `docker compose` lab.
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

    /** The command line that runs {@code argv} on the card (its namespace, and its filesystem where it has one). */
    default java.util.List<String> onCard(java.util.List<String> argv) {
        return io.cardnet.lab.runtime.Shell.inNamespace(cardNamespace(), argv);
    }

    /** Runs {@code work} on the host side. */
    default <T> T onHostSide(Callable<T> work) throws Exception {
        return hostNamespace() == null ? work.call() : NetNamespace.call(hostNamespace(), work);
    }

    /** Called once the drill is over, whatever happened. */
    default void done() {
    }
}
