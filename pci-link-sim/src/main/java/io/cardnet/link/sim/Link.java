package io.cardnet.link.sim;

import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.LinkDown;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.Train;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The link between the two ports and its state machine. Confined to the simulator's single event loop
 * thread, so it needs no locks; other threads read it through {@link LinkSimulator#status()}.
 *
 * <pre>
 *   DOWN ──an end attaches──▶ DETECT ──one end trains──▶ TRAINING ──other end trains──▶ UP
 *    ▲                           │                          │   ▲                       │
 *    └────── last end leaves ────┴──────────────────────────┘   └─ flap / end leaves ───┘
 *                                         (a remaining trained end stays attached and retrains)
 * </pre>
 *
 * Every time the link leaves or enters UP the engines are reset: descriptors in flight are lost and both ends
 * start over with a full set of credits, as after a real link retrain.
 *
 * <p>An end that had the link up trains again after its LINK_DOWN, once every queue of it has let go of that epoch's
 * DMA slots and rings, and the link comes up again only when each such end has. The new epoch reuses the same slots
 * from sequence 1 on, and the two ends hear LINK_DOWN at different times, so without this wait one end could write a
 * slot for the new epoch while the other still read it for the old one (a consumer writing another packet's bytes to
 * its TUN, or refusing a descriptor whose slot no longer matches it).
 */
final class Link {
    private static final Logger log = LoggerFactory.getLogger(Link.class);

    /** One end's attachment: its channel, and its training request once it has trained. */
    record End(Channel channel, Train train) {
    }

    /** Told when the link enters or leaves UP, before either end hears of it. */
    interface Listener {
        void linkChanged(boolean up);
    }

    private final Map<Role, End> ends = new EnumMap<>(Role.class);
    /** Ends that had the link up when it went down and have not trained since: the link waits for them. */
    private final java.util.Set<Role> retraining = java.util.EnumSet.noneOf(Role.class);
    private final SimMetrics metrics;
    private final EventLoop loop;
    private final IntSupplier ringDepth;
    private final java.util.function.LongSupplier supported;
    private final IntSupplier maxQueues;
    private Listener listener = up -> { };
    private LinkState state = LinkState.DOWN;
    private Instant since = Instant.now();
    private long epoch;
    private LinkUp current;
    private long flapUntil;
    private long removedUntil;

    /**
     * {@code supported}: the feature bits this simulator can carry now (no shared memory without DMA regions, no
     * direct rings while the link model has per-descriptor work), asked at each training.
     */
    Link(SimMetrics metrics, EventLoop loop, IntSupplier ringDepth, java.util.function.LongSupplier supported,
         IntSupplier maxQueues) {
        this.maxQueues = maxQueues;
        this.metrics = metrics;
        this.loop = loop;
        this.ringDepth = ringDepth;
        this.supported = supported;
    }

    void listener(Listener l) {
        this.listener = l;
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

    /** The channel of the end opposite {@code role}, if the link is up. */
    Channel peerIfUp(Role role) {
        if (state != LinkState.UP) {
            return null;
        }
        End peer = ends.get(role.peer());
        return peer == null ? null : peer.channel();
    }

    /** Returns null if the channel may attach as {@code role}, else the reason it may not. */
    String attach(Role role, Channel channel) {
        long now = System.nanoTime();
        if (role == Role.ENDPOINT && now < removedUntil) {
            return "the card's slot is empty (surprise removal injected); it can be re-inserted in "
                    + TimeUnit.NANOSECONDS.toMillis(removedUntil - now) + " ms";
        }
        End existing = ends.get(role);
        if (existing != null && existing.channel() != channel) {
            return "the " + role.description() + " port already has a function attached ("
                    + existing.channel().remoteAddress() + "); stop it first";
        }
        ends.put(role, new End(channel, null));
        if (state == LinkState.DOWN) {
            moveTo(LinkState.DETECT, role.description() + " detected on its port");
        }
        return null;
    }

    /** Records a training request; brings the link up when both ends have trained. */
    void trained(Role role, Train train) {
        if (state == LinkState.UP) {
            // An end trains again on the connection it already holds (a card VM's end reattached behind its
            // virtio port, which the simulator's socket never sees close): the link retrains as after a reset.
            goDown(LinkState.TRAINING, role.description() + " trained again on a live link");
            End peer = ends.get(role.peer());
            if (peer != null) {
                peer.channel().writeAndFlush(new LinkDown(role.description() + " retrained"));
            }
        }
        ends.put(role, new End(ends.get(role).channel(), train));
        retraining.remove(role);
        End peer = ends.get(role.peer());
        if (peer == null || peer.train() == null) {
            moveTo(LinkState.TRAINING, role.description() + " trained; waiting for the " + role.peer().description());
            ends.get(role).channel().writeAndFlush(new LinkDown("waiting for the " + role.peer().description()
                    + " to train"));
            return;
        }
        if (retraining.contains(role.peer())) {
            moveTo(LinkState.TRAINING, role.description() + " trained; waiting for the " + role.peer().description()
                    + " to let go of epoch " + epoch + " and train again");
            return;
        }
        if (System.nanoTime() < flapUntil) {
            moveTo(LinkState.TRAINING, role.description() + " trained; the link is held down by an injected flap");
            return;
        }
        bringUp();
    }

    private void bringUp() {
        Train host = ends.get(Role.ROOT_COMPLEX).train();
        Train card = ends.get(Role.ENDPOINT).train();
        epoch++;
        long features = host.features() & card.features() & supported.getAsLong();
        int depth = ringDepth.getAsInt();
        // Queue pairs need the direct rings (the simulator's engines run one ring per direction), and each queue
        // owns depth slots of its direction's DMA region.
        int queues = !Features.has(features, Features.DIRECT_RING) ? 1
                : Math.max(1, Math.min(Math.min(host.queues(), card.queues()),
                Math.min(maxQueues.getAsInt(), io.cardnet.link.dma.DmaRegion.SLOTS / depth)));
        current = new LinkUp(Math.min(host.version(), card.version()), Math.min(host.maxPacket(), card.maxPacket()),
                features, epoch, depth, queues);
        listener.linkChanged(true);
        moveTo(LinkState.UP, "both ends trained: max packet " + current.maxPacket() + ", ring " + current.ringDepth()
                + ", queues " + current.queues()
                + ", features " + Features.describe(current.features()) + ", epoch " + epoch);
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
        retraining.remove(role);
        End peer = ends.get(role.peer());
        goDown(peer == null ? LinkState.DOWN : peer.train() != null ? LinkState.TRAINING : LinkState.DETECT,
                role.description() + " left: " + reason);
        if (peer != null && peer.train() != null) {
            peer.channel().writeAndFlush(new LinkDown(role.description() + " went away: " + reason));
        }
    }

    /** Fault: the link drops for {@code millis} and retrains by itself; both ends stay attached. */
    void flap(long millis) {
        flapUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        if (state == LinkState.UP) {
            goDown(LinkState.TRAINING, "link flap injected for " + millis + " ms");
            for (End e : ends.values()) {
                e.channel().writeAndFlush(new LinkDown("link flap (injected): retraining in " + millis + " ms"));
            }
        }
        loop.schedule(() -> {
            End h = ends.get(Role.ROOT_COMPLEX);
            End c = ends.get(Role.ENDPOINT);
            if (state != LinkState.UP && h != null && c != null && h.train() != null && c.train() != null
                    && retraining.isEmpty()) {
                bringUp();
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    /** Fault: the card vanishes without warning and cannot re-attach for {@code millis}. */
    void surpriseRemove(long millis) {
        removedUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        End card = ends.get(Role.ENDPOINT);
        if (card != null) {
            log.warn("surprise removal injected: the card is gone for {} ms", millis);
            detach(Role.ENDPOINT, card.channel(), "surprise removal (injected)");
            card.channel().close();
        }
    }

    private void goDown(LinkState next, String why) {
        boolean wasUp = state == LinkState.UP;
        current = null;
        if (wasUp) {
            // every end that heard LINK_UP hears LINK_DOWN next, and trains again once it has let go of this epoch
            ends.forEach((r, e) -> {
                if (e.train() != null) {
                    retraining.add(r);
                }
            });
        }
        moveTo(next, why);
        if (wasUp) {
            listener.linkChanged(false);
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
