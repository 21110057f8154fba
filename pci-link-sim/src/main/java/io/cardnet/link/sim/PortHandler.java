package io.cardnet.link.sim;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.RxDone;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Heartbeat;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.Train;
import io.cardnet.link.protocol.TrainReject;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * One connection on one port of the simulator. It trains the end, hands its descriptors and doorbells to the
 * DMA engine of its direction, counts and drops malformed frames, and watches the end's heartbeat.
 * Back-pressure comes from credits: an end may only have ring-depth descriptors posted, and gets credits back
 * as the engine completes them; when this end's own channel is full, the engine delivering to it waits.
 */
final class PortHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PortHandler.class);
    /** Fault log lines per second per port, beyond which faults are only counted. */
    private static final int FAULT_LOGS_PER_SECOND = 20;

    private final Role role;
    private final Link link;
    private final SimMetrics metrics;
    private final Function<Direction, DmaEngine> engines;
    private final Direction direction;
    private boolean attached;
    private long faultWindowStart;
    private int faultsLogged;
    private long expectedSequence;
    private boolean waitingLogged;
    private boolean failed;

    PortHandler(Role role, Link link, SimMetrics metrics, Function<Direction, DmaEngine> engines) {
        this.role = role;
        this.link = link;
        this.metrics = metrics;
        this.engines = engines;
        this.direction = Direction.from(role);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        String refusal = link.attach(role, ctx.channel());
        if (refusal != null) {
            log.warn("{} port: refused a connection: {}", role.shortName(), refusal);
            metrics.drop(direction, "port_refused");
            ctx.writeAndFlush(new TrainReject(refusal)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        attached = true;
        log.info("{} port: {} attached", role.shortName(), role.description());
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case Data data -> post(data);
            case Desc desc -> {
                if (!attached || link.peerIfUp(role) == null) {
                    metrics.drop(direction, "link_down");
                } else if (staleEpoch(desc.epoch())) {
                    metrics.drop(direction, "stale_epoch");
                } else {
                    switch (engines.apply(direction).view(desc)) {
                        case Decoded.Ok<Data>(Data data) -> post(data);
                        case Decoded.Refused<Data>(FrameFault fault) -> {
                            fault(fault);
                            if (desc.sequence() >= expectedSequence && desc.sequence() <= engines.apply(direction).window()) {
                                skipTo(desc.sequence() + 1);
                            }
                        }
                    }
                }
            }
            case RxDone done -> {
                if (attached && link.peerIfUp(role) != null) {
                    engines.apply(Direction.from(role.peer())).consumed(done.upTo(), done.epoch());
                }
            }
            case Doorbell doorbell -> {
                if (attached && link.peerIfUp(role) != null) {
                    engines.apply(direction).doorbell(doorbell.tail(), doorbell.epoch());
                }
            }
            case Heartbeat ignored -> {
                // its arrival already reset the idle timer
            }
            case Train train -> train(ctx, train);
            case FrameFault fault -> fault(fault);
            default -> {
                fault(new FrameFault(FrameFault.Kind.UNKNOWN_TYPE, msg.getClass().getSimpleName()
                        + " frames only travel from the simulator to an end; dropped"));
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private void train(ChannelHandlerContext ctx, Train train) {
        if (!attached) {
            return;
        }
        String refusal = null;
        if (train.version() != Protocol.VERSION) {
            refusal = "protocol version " + train.version() + " is not supported; this simulator speaks version "
                    + Protocol.VERSION + " (upgrade the older side)";
        } else if (train.role() != role) {
            refusal = "this is the " + role.description() + " port but the function trained as "
                    + train.role().description() + "; connect it to the " + train.role().shortName() + " port";
        } else if (train.maxPacket() < Data.MIN_PACKET || train.maxPacket() > Data.MAX_PACKET) {
            refusal = "max packet " + train.maxPacket() + " is outside " + Data.MIN_PACKET + ".." + Data.MAX_PACKET;
        }
        if (refusal != null) {
            log.warn("{} port: training refused: {}", role.shortName(), refusal);
            link.detach(role, ctx.channel(), "training refused");
            attached = false;
            ctx.writeAndFlush(new TrainReject(refusal)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        expectedSequence = 1;
        link.trained(role, train);
    }

    private void post(Data data) {
        if (!attached || link.peerIfUp(role) == null) {
            metrics.drop(direction, "link_down");
            data.release();
            return;
        }
        long seq = data.sequence();
        if (staleEpoch(data.epoch())) {
            // Posted before this end heard of the latest training: it belongs to the old ring.
            metrics.drop(direction, "stale_epoch");
            data.release();
            return;
        }
        if (seq < expectedSequence) {
            // A sequence this epoch already carried (or wrote off): a replay, never a new descriptor.
            refuse("replayed", "descriptor " + seq + " again; this epoch is past " + (expectedSequence - 1));
            data.release();
            return;
        }
        DmaEngine engine = engines.apply(direction);
        if (seq > engine.window()) {
            refuse("out_of_window", "descriptor " + seq + " lies beyond the producer's credits (at most "
                    + engine.window() + " now)");
            data.release();
            return;
        }
        if (seq != expectedSequence) {
            metrics.sequenceGap(direction);
            log.debug("{} port: sequence {} where {} was expected", role.shortName(), seq, expectedSequence);
            skipTo(seq);
        }
        expectedSequence = seq + 1;
        engine.post(data);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            engines.apply(Direction.from(role.peer())).resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** Whether a descriptor's 16-bit epoch tag is not the running link's: posted before the end heard of a retrain. */
    private boolean staleEpoch(int tag) {
        var up = link.current();
        return up == null || ((int) up.epoch() & 0xffff) != tag;
    }

    /** A descriptor whose sequence cannot be right: dropped, counted by reason, logged (rate-limited). */
    private void refuse(String reason, String detail) {
        metrics.drop(direction, reason);
        if (logAllowed()) {
            log.warn("{} port: dropped a descriptor: {} (cardnet_bus_drops_total reason={})", role.shortName(), detail,
                    reason);
        }
    }

    private boolean logAllowed() {
        long now = System.nanoTime();
        if (now - faultWindowStart > 1_000_000_000L) {
            faultWindowStart = now;
            faultsLogged = 0;
        }
        return faultsLogged++ < FAULT_LOGS_PER_SECOND;
    }

    /** Sequences the end posted but that never arrived whole (a malformed frame) are written off up to {@code next}. */
    private void skipTo(long next) {
        engines.apply(direction).discard(expectedSequence, next);
        expectedSequence = next;
    }

    /** The link retrained: the end's sequence starts over. */
    void resetSequence() {
        expectedSequence = 1;
    }

    private void fault(FrameFault fault) {
        metrics.fault(role, fault.kind());
        if (logAllowed()) {
            log.warn("{} port: dropped a malformed frame: {} (counted in cardnet_bus_faults_total)",
                    role.shortName(), fault);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e) {
            Link.End end = link.end(role);
            boolean untrained = end != null && end.channel() == ctx.channel() && end.train() == null;
            if (e.state() == IdleState.WRITER_IDLE) {
                // none for an end that has not trained: a card VM's port is not read until its firmware runs, and
                // heartbeats would pile up in QEMU's socket for the whole boot
                if (!untrained) {
                    ctx.writeAndFlush(new Heartbeat(System.nanoTime()), ctx.voidPromise());
                }
            } else if (e.state() == IdleState.READER_IDLE && attached) {
                if (untrained) {
                    // Attached but not trained: a card VM's port is connected from power-on, long before its
                    // firmware runs (a card in its slot, the link in DETECT). Heartbeats are owed from training
                    // on; an end that never trains holds the port no longer than one that heartbeats untrained.
                    if (!waitingLogged) {
                        log.info("{} port: connected, waiting for the {} to train", role.shortName(), role.description());
                        waitingLogged = true;
                    }
                    return;
                }
                log.warn("{} port: the {} missed its heartbeats; declaring it gone", role.shortName(),
                        role.description());
                link.detach(role, ctx.channel(), "missed heartbeats");
                attached = false;
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (attached) {
            attached = false;
            link.detach(role, ctx.channel(), "connection closed");
            log.info("{} port: {} detached", role.shortName(), role.description());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Once per connection: an end that vanished fails every write still queued for it (a card VM that never
        // read its port had heartbeats queued for its whole boot).
        if (!failed) {
            failed = true;
            log.warn("{} port: {}; closing this connection", role.shortName(), cause.toString());
        }
        ctx.close();
    }
}
