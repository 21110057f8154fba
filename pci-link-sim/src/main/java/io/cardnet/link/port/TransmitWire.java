package io.cardnet.link.port;

import io.cardnet.link.dma.SharedRing;
import io.cardnet.link.model.LinkProfile;
import io.cardnet.link.model.WireClock;

/**
 * An end's transmit wire on the direct rings: one per end, shared by all its queue pairs, because the queues share
 * one physical link. Each queue's thread puts its descriptors on it ({@link #send}) and is told when each arrives;
 * the simulator publishes the model in the rings, and a new one applies from the next descriptor on. Few calls
 * (one per descriptor, on up to eight threads), so a lock is enough.
 */
final class TransmitWire {
    private final WireClock clock = new WireClock(LinkProfile.UNLIMITED);
    private long profileVersion = -1;

    /** Takes the model the simulator last published in {@code ring} (a sequence lock there, so it is whole). */
    synchronized boolean paced(SharedRing ring) {
        long v = ring.profileVersion();
        if (v != profileVersion) {
            profileVersion = v;
            clock.profile(ring.profile());
        }
        return clock.profile().paced();
    }

    synchronized WireClock.Transfer send(long now, int packetBytes) {
        return clock.send(now, packetBytes);
    }

    /** A doorbell or interrupt this end sent: one small TLP on its wire. */
    synchronized void notification(long now) {
        clock.notification(now);
    }
}
