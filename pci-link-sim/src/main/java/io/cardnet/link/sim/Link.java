package io.cardnet.link.sim;

import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.Train;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * The link between the two ports and its state machine. Confined to the simulator's single event loop
 * thread, so it needs no locks; other threads read it through {@link LinkSimulator#status()}.
 *
 * <pre>
 *   DOWN ──one end trains──▶ TRAINING ──other end trains──▶ UP
 *    ▲                           │                            │
 *    └─────── end leaves ────────┴──── end leaves / silent ───┘  (the other end stays, retrains later)
 * </pre>
 */
final class Link {
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    /** One end's attachment: its channel, and its training request once it has trained. */
    record End(Channel channel, Train train) {
    }

    private final Map<Role, End> ends = new EnumMap<>(Role.class);
    private final SimMetrics metrics;
    private LinkState state = LinkState.DOWN;
    private Instant since = Instant.now();
    private long epoch;
    private LinkUp current;

    Link(SimMetrics metrics) {
        this.metrics = metrics;
    }

    LinkState state() {
        return state;
    }

    Instant since() {
        return since;
    }

    long epoch() {
        return epoch;
    }

    LinkUp current() {
        return current;
    }

    End end(Role role) {
        return ends.get(role);
    }

    /** The channel of the end opposite {@code role}, if that end is trained and the link is up. */
    Channel peerIfUp(Role role) {
        if (state != LinkState.UP) {
            return null;
        }
        End peer = ends.get(role.peer());
        return peer == null ? null : peer.channel();
    }

    /** Returns null if the channel may attach as {@code role}, else the reason it may not. */
    String attach(Role role, Channel channel) {
        End existing = ends.get(role);
        if (existing != null && existing.channel() != channel) {
            return "the " + role.description() + " port already has a function attached ("
                    + existing.channel().remoteAddress() + "); stop it first";
        }
        ends.put(role, new End(channel, null));
        return null;
    }

    /** Records a training request; brings the link up when both ends have trained. */
    void trained(Role role, Train train) {
        ends.put(role, new End(ends.get(role).channel(), train));
        End peer = ends.get(role.peer());
        if (peer == null || peer.train() == null) {
            moveTo(LinkState.TRAINING, role.description() + " trained; waiting for the " + role.peer().description());
            ends.get(role).channel().writeAndFlush(new LinkDown("waiting for the " + role.peer().description()
                    + " to train"));
            return;
        }
        Train host = ends.get(Role.ROOT_COMPLEX).train();
        Train card = ends.get(Role.ENDPOINT).train();
        epoch++;
        current = new LinkUp(Math.min(host.version(), card.version()), Math.min(host.maxPacket(), card.maxPacket()),
                host.features() & card.features(), epoch);
        moveTo(LinkState.UP, "both ends trained: max packet " + current.maxPacket() + ", features "
                + io.cardnet.link.protocol.Features.describe(current.features()) + ", epoch " + epoch);
        for (End e : ends.values()) {
            e.channel().writeAndFlush(current);
        }
    }

    /** An end left (closed, silent, or rejected); the other end is told and stays attached. */
    void detach(Role role, Channel channel, String reason) {
        End end = ends.get(role);
        if (end == null || end.channel() != channel) {
            return;
        }
        ends.remove(role);
        End peer = ends.get(role.peer());
        boolean wasUp = state == LinkState.UP;
        if (peer != null && peer.train() != null) {
            moveTo(LinkState.TRAINING, role.description() + " left: " + reason);
        } else {
            moveTo(LinkState.DOWN, role.description() + " left: " + reason);
        }
        current = null;
        if (peer != null && (wasUp || peer.train() != null)) {
            peer.channel().writeAndFlush(new LinkDown(role.description() + " went away: " + reason));
        }
    }

    private void moveTo(LinkState next, String why) {
        if (next == state) {
            log.info("link {}: {}", state, why);
            return;
        }
        log.info("link {} -> {}: {}", state, next, why);
        state = next;
        since = Instant.now();
        metrics.transition(next);
    }
}
