package io.cardnet.lab.cli;

import io.cardnet.card.relay.RelayConfig;
import io.cardnet.card.relay.RelayMove;
import io.cardnet.lab.runtime.LabConfig;
import picocli.CommandLine.Option;

/**
 * {@code --relay on|off}, {@code --relay-max-connections N} and {@code --relay-move splice|copy}: the card's TCP relay,
 * for lab up and card-node alike.
 */
final class RelayOptions {
    @Option(names = "--relay", paramLabel = "on|off",
            description = "The card's TCP relay: host connections toward the wire end on the card (64K MSS across the"
                    + " bus) and continue from the card's own TCP stack (the wire's MSS). Default: the firmware's"
                    + " `relay` service decides (off without a firmware). The card's metrics count it"
                    + " (cardnet_card_relay_*).")
    String relay;

    @Option(names = "--relay-max-connections", paramLabel = "N", defaultValue = "" + RelayConfig.DEFAULT_MAX_CONNECTIONS,
            description = "Relayed connections the card holds at once; one more is refused with a RST and counted"
                    + " (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--relay-move", paramLabel = "splice|copy", defaultValue = "splice",
            description = "How the relay moves bytes between the two sockets: splice (splice(2), socket → pipe →"
                    + " socket in the card's kernel, never in user space) or copy (read into the relay's buffers and"
                    + " written out); the card's metrics count the bytes of each (cardnet_card_relay_moved_bytes_total)"
                    + " (default: ${DEFAULT-VALUE}).")
    String move;

    RelayMove move() {
        return RelayMove.parse(move);
    }

    /** On or off as asked, or null when the firmware decides. */
    Boolean on() {
        return relay == null ? null : Converters.onOff(relay, "--relay");
    }

    LabConfig.Relay labSetting() {
        return new LabConfig.Relay(on(), maxConnections, move());
    }
}
