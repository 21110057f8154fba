package io.cardnet.lab.runtime;

/**
 * The fixed plan of an active/standby pair ({@code lab up --cards 2 --pair}; docs/architecture.md, "Failover pairs"),
 * inside 198.18.0.0/15 and clear of the cards' links (198.18.0.4K/30) and wires (198.19.K.0/24).
 *
 * <ul>
 *   <li>The host's wire identity: {@value #HOST_ROUTED} (the source of routed flows: the route to the wire carries
 *   {@code src} it) and {@value #HOST_NATED} (a source both cards SNAT to the wire identity), on a device of their own (an empty bridge)
 *   {@value #HOST_DEVICE}, so the host's wire-bound traffic keeps its source whichever toe carries it.</li>
 *   <li>The cards' wire identity: both eth0 have card 0's wire address (198.19.0.2/24) and one MAC,
 *   {@value #VIRTUAL_MAC} (VRRP's virtual router MAC, VRID 1); only the active's eth0 is up.</li>
 *   <li>The sync link: {@value #SYNC_DEVICE} in each card, 198.18.9.1 (card 0) ⇄ 198.18.9.2 (card 1), a veth the
 *   two conntrackd talk over.</li>
 * </ul>
 */
public final class PairPlan {
    public static final String HOST_DEVICE = "toeha";
    public static final String HOST_ROUTED = "198.18.8.1";
    public static final String HOST_NATED = "198.18.8.2";
    public static final String HOST_NET = "198.18.8.0/24";
    public static final String SYNC_DEVICE = "sync0";
    public static final String VIRTUAL_MAC = "00:00:5e:00:01:01";
    public static final String WIRE_BRIDGE = "br0";
    /** conntrackd's FTFW port on the sync link (its documented default). */
    public static final int SYNC_PORT = 3780;
    /** The table each card's NAT lives in, beside the firmware's own "inet card". */
    public static final String NAT_TABLE = "cardnet_pair";

    private PairPlan() {
    }

    /** Card {@code k}'s end of the sync link. */
    public static String syncAddress(int k) {
        return "198.18.9." + (k + 1);
    }

    /** The other card of the pair. */
    public static int other(int k) {
        return 1 - k;
    }
}
