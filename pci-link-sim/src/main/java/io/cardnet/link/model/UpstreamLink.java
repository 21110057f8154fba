package io.cardnet.link.model;

import io.cardnet.link.protocol.Direction;

import java.util.EnumMap;
import java.util.Map;

/**
 * The upstream link of a PCIe switch that several cards sit behind: every card's descriptors cross it as well as
 * their own link, so together they cannot move more than it carries (docs/link-model.md, "Cards behind one switch").
 * One {@link WireClock} per direction, shared by the DMA engines of every card's link in the simulator. A
 * descriptor is delivered when both wires have it: {@code max(own link's delivery, upstream's delivery)}, the
 * switch forwarding cut-through, so one card alone is held only by the slower of the two.
 *
 * <p>Each card's link runs on its own bus thread, so the clocks are shared between threads: a lock per
 * descriptor, which costs little next to the descriptor's own work on the simulator's path.
 */
public final class UpstreamLink {
    private final Map<Direction, WireClock> wires = new EnumMap<>(Direction.class);
    private final LinkProfile profile;

    public UpstreamLink(LinkProfile profile) {
        if (!profile.paced()) {
            throw new IllegalArgumentException("an upstream link must be a paced model genGxL (e.g. gen3x4), not "
                    + profile.name());
        }
        this.profile = profile;
        for (Direction d : Direction.values()) {
            wires.put(d, new WireClock(profile));
        }
    }

    public LinkProfile profile() {
        return profile;
    }

    /** Puts a descriptor on the upstream wire of {@code direction} at {@code now}; when it has crossed it. */
    public WireClock.Transfer send(Direction direction, long now, int packetBytes, int transmissions) {
        WireClock w = wires.get(direction);
        synchronized (w) {
            return w.send(now, packetBytes, transmissions);
        }
    }
}
