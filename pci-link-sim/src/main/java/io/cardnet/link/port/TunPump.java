package io.cardnet.link.port;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.netdev.NetdevException;
import io.cardnet.netdev.Tun;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Moves packets between a TUN device and the bus — the same loop on both ends (toe0 on the host,
 * host0 on the card).
 *
 * <pre>
 *  TUN ──read──▶ checksum policy ──▶ descriptor ──▶ BusPort ──▶ simulator
 *  TUN ◀──write── checksum policy ◀── descriptor ◀── BusPort ◀── simulator
 * </pre>
 *
 * Both directions run on the port's bus thread: the TUN's fd sits in the same epoll set as the bus socket, so a
 * packet goes from the kernel to the simulator without waking a second thread (each wake-up costs tens of
 * microseconds of round-trip time on a small VM).
 *
 * The TUN's carrier follows the link: on while the link is up, off otherwise, so the kernel sees
 * NO-CARRIER exactly when the far end is unreachable.
 *
 * <p>With several queue pairs there is one pump per TUN queue, each on its queue's bus thread; the pump of
 * queue 0 speaks for the device (carrier, offloads), and each pump attaches its TUN queue while the link runs it
 * and detaches it otherwise, so the kernel steers flows only to queues that move packets.
 */
public final class TunPump implements BusPort.Listener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TunPump.class);
    /** Packets up to this size are copied into a right-sized buffer so a 64 KiB buffer isn't parked per ACK. */
    private static final int COPY_BELOW = 2048;
    /**
     * Packets read per readiness event before the doorbell rings and the bus thread looks at its socket again,
     * so a busy TUN neither starves received descriptors nor costs a doorbell per packet.
     */
    private static final int BURST = 32;

    private final Tun tun;
    /** False models a plain NIC: no checksum or segmentation offload, whatever the checksum policy. */
    private final boolean offload;
    private final Direction outbound;
    private final Direction inbound;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final MeterRegistry registry;
    private final Map<String, Counter> drops = new ConcurrentHashMap<>();
    private final Counter outPackets;
    private final Counter outBytes;
    private final Counter inPackets;
    private final Counter inBytes;
    private volatile ChecksumPolicy policy;
    private volatile BusQueue port;
    /** Which queue of its TUN this pump serves; queue 0 also speaks for the device. */
    private final int queue;
    /** True when the TUN has several queues ({@code IFF_MULTI_QUEUE}), so this one can be detached. */
    private final boolean multiQueue;
    /** The TUN's registration with the bus thread's epoll; reads happen there, next to the socket's. */
    private IoRegistration reading;
    /** True while this TUN queue is attached (every queue starts attached). */
    private boolean attached = true;
    /** True while out of credits: the TUN is not watched until credits come back. */
    private boolean paused;
    /** A pooled buffer a read did not fill, kept for the next read (frame path only). */
    private ByteBuf spare;
    private long lastWriteErrorLog;

    public TunPump(Tun tun, io.cardnet.link.protocol.Role role, long offeredFeatures, boolean offload,
                   MeterRegistry registry) {
        this(tun, 0, false, role, offeredFeatures, offload, registry);
    }

    /** The pump of TUN queue {@code queue} of a device with {@code multiQueue} queues. */
    public TunPump(Tun tun, int queue, boolean multiQueue, io.cardnet.link.protocol.Role role, long offeredFeatures,
                   boolean offload, MeterRegistry registry) {
        this.queue = queue;
        this.multiQueue = multiQueue;
        this.tun = tun;
        this.offload = offload;
        this.outbound = Direction.from(role);
        this.inbound = Direction.from(role.peer());
        this.registry = registry;
        this.policy = ChecksumPolicy.forFeatures(offeredFeatures);
        this.outPackets = counter("cardnet.tun.packets", outbound);
        this.outBytes = counter("cardnet.tun.bytes", outbound);
        this.inPackets = counter("cardnet.tun.packets", inbound);
        this.inBytes = counter("cardnet.tun.bytes", inbound);
    }

    private Counter counter(String name, Direction d) {
        return Counter.builder(name).tag("device", tun.name()).tag("direction", d.tag()).register(registry);
    }

    private void drop(Direction d, String reason) {
        drops.computeIfAbsent(d.tag() + "/" + reason, k -> Counter.builder("cardnet.tun.drops")
                .description("packets this end could not move, by reason").tag("device", tun.name())
                .tag("direction", d.tag()).tag("reason", reason).register(registry)).increment();
    }

    /** Puts this TUN queue into its bus queue's epoll set; packets move once the link runs the queue. */
    public void start(BusPort whole, BusQueue port) throws NetdevException {
        this.port = port;
        if (queue == 0) {
            // device-wide figures, summed over the queues (a meter registers once per name and tags)
            io.micrometer.core.instrument.FunctionCounter.builder("cardnet.tun.credit.stalls", whole, BusPort::creditStalls)
                    .description("times this end had no credit (a ring was full) and waited").tag("device", tun.name())
                    .tag("direction", outbound.tag()).register(registry);
            for (io.cardnet.link.protocol.FrameFault.Kind kind : io.cardnet.link.protocol.FrameFault.Kind.values()) {
                io.micrometer.core.instrument.FunctionCounter.builder("cardnet.tun.bus.refused", whole, p -> p.refusals(kind))
                        .description("frames, descriptors and credits this end refused from the bus or its peer's ring")
                        .tag("device", tun.name()).tag("kind", kind.tag()).register(registry);
            }
            io.micrometer.core.instrument.Gauge.builder("cardnet.tun.credits", whole, BusPort::credits)
                    .description("free ring slots this end may post into (socket paths)").tag("device", tun.name())
                    .tag("direction", outbound.tag()).register(registry);
            tun.setCarrier(false);
        }
        watch();
    }

    /** Puts the TUN queue's fd into the bus thread's epoll set, watching for packets. */
    private void watch() throws NetdevException {
        io.netty.util.concurrent.Future<IoRegistration> f = port.eventLoop().register(new TunReadiness());
        if (port.eventLoop().inEventLoop()) {
            // on the bus thread itself (a queue attached again at link up): it cannot wait for itself
            f.addListener(done -> {
                if (done.isSuccess()) {
                    watching(f.getNow());
                } else {
                    log.error("{} queue {}: epoll registration failed: {}", tun.name(), queue, done.cause().toString());
                }
            });
            return;
        }
        try {
            watching(f.syncUninterruptibly().getNow());
        } catch (RuntimeException e) {
            throw new NetdevException("epoll registration of " + tun.name() + " queue " + queue, 0, e.getMessage());
        }
    }

    private void watching(IoRegistration r) {
        reading = r;
        paused = false;
        reading.submit(EpollIoOps.EPOLLIN);
    }

    /**
     * Attaches this TUN queue while the link runs it, detaches it otherwise. A detached queue's fd polls as an
     * error for as long as it is detached, so it leaves the epoll set first and comes back on attach.
     */
    private void followQueue() throws NetdevException {
        boolean want = port.active();
        if (!multiQueue || want == attached) {
            return;
        }
        if (want) {
            tun.setQueueAttached(true);
            watch();
        } else {
            if (reading != null && reading.isValid()) {
                reading.cancel();
            }
            reading = null;
            tun.setQueueAttached(false);
        }
        attached = want;
    }

    @Override
    public void linkUp(LinkUp up) {
        ChecksumPolicy next = ChecksumPolicy.forFeatures(up.features());
        try {
            followQueue();
            if (next != policy && offload && queue == 0) {
                tun.setOffloads(next.offloads());
            }
            policy = next;
            if (queue == 0) {
                tun.setCarrier(true);
                log.info("{} carrier on; checksums {}; {} queue pair{}{}", tun.name(),
                        next instanceof ChecksumPolicy.Unnecessary ? "unnecessary (trusted bus)" : "verified by the receiver",
                        up.queues(), up.queues() == 1 ? "" : "s", port.direct() ? " on the direct rings" : "");
            }
        } catch (NetdevException e) {
            log.error("{}: could not follow link up: {}", tun.name(), e.getMessage());
        }
    }

    @Override
    public void linkDown(String reason) {
        if (queue != 0) {
            return;
        }
        try {
            tun.setCarrier(false);
        } catch (NetdevException e) {
            log.error("{}: could not drop the carrier: {}", tun.name(), e.getMessage());
        }
    }

    @Override
    public void receive(Data data) {
        try {
            String refused = policy.inbound(data);
            if (refused != null) {
                drop(inbound, refused);
                return;
            }
            int n = data.vnetAndPacketLength();
            tun.write(data.content().nioBuffer(Data.VNET_OFFSET, n));
            inPackets.increment();
            inBytes.increment(n - VnetHeader.SIZE);
        } catch (NetdevException e) {
            drop(inbound, "tun_rejected");
            long now = System.nanoTime();
            if (now - lastWriteErrorLog > 1_000_000_000L) {
                lastWriteErrorLog = now;
                log.warn("{}: the kernel refused a packet from the bus ({}); counted in cardnet_tun_drops_total",
                        tun.name(), e.getMessage());
            }
        } finally {
            data.release();
        }
    }

    /** Called on the bus thread whenever this end may post again (credits back, socket drained, link changed). */
    @Override
    public void writable() {
        if (paused && reading != null) {
            paused = false;
            reading.submit(EpollIoOps.EPOLLIN);
        }
    }

    /**
     * Descriptors were just written into the TUN: the kernel often answered them in the same write (an ICMP echo
     * reply, TCP ACKs), so look now instead of waiting for epoll to say so on the next turn of the loop.
     */
    @Override
    public void received() {
        if (reading != null && !paused) {
            readBurst();
        }
    }

    /**
     * Reads what the kernel has queued on the TUN, up to a burst, into descriptors, then rings the doorbell once.
     * Runs on the bus thread when epoll says the TUN is readable. Out of credits, it stops watching the TUN
     * (the kernel queues, then drops, as a full NIC ring would) until {@link #writable()}.
     */
    private void readBurst() {
        BusQueue p = port;
        int moved = 0;
        try {
            while (moved < BURST) {
                if (p.isUp() && !p.isWritable()) {
                    paused = true;
                    // Not NONE: Netty 4.2 deletes the fd from epoll for NONE but then MODs it on the next
                    // submit (ENOENT). EPOLLERR alone keeps the fd registered without read readiness.
                    reading.submit(EpollIoOps.EPOLLERR);
                    break;
                }
                BusPort.TxBuffer tx;
                if (spare != null && !p.sharedMemory()) {
                    tx = new BusPort.TxBuffer(spare, -1, -1, -1);
                } else {
                    if (spare != null) {
                        spare.release();
                    }
                    tx = p.nextBuffer(alloc);
                }
                spare = null;
                ByteBuf buf = tx.buffer();
                int n;
                try {
                    n = tun.read(buf.nioBuffer(Data.VNET_OFFSET, VnetHeader.SIZE + Data.MAX_PACKET));
                } catch (IllegalStateException unmapped) {
                    // The slot belonged to a DMA region retired when the simulator restarted: take a fresh one.
                    drop(outbound, "stale_buffer");
                    continue;
                }
                if (n == 0) {
                    // Nothing left: an unposted slot is simply not claimed; a pooled buffer waits for the next read.
                    spare = tx.shared() ? null : buf;
                    break;
                }
                if (n < VnetHeader.SIZE + Data.MIN_PACKET) {
                    drop(outbound, "runt");
                    spare = tx.shared() ? null : buf;
                    continue;
                }
                ByteBuf frame = buf;
                if (!tx.shared() && n <= COPY_BELOW) {
                    // An ACK-sized packet: copy it out so the 64 KiB buffer is reused, not parked in a socket queue.
                    frame = alloc.directBuffer(Data.VNET_OFFSET + n);
                    frame.writerIndex(Data.VNET_OFFSET);
                    frame.writeBytes(buf, Data.VNET_OFFSET, n);
                    spare = buf;
                }
                Data data = Data.seal(frame, n);
                policy.outbound(data);
                if (!p.post(tx, data)) {
                    drop(outbound, "link_down");
                    data.release();
                    continue;
                }
                moved++;
                outPackets.increment();
                outBytes.increment(n - VnetHeader.SIZE);
            }
        } catch (NetdevException e) {
            log.error("{}: reading failed, this end stops moving packets: {}", tun.name(), e.getMessage());
            reading.cancel();
        }
        if (moved > 0) {
            p.flush();
        }
    }

    /** The TUN's fd in the bus thread's epoll set; the {@link Tun} still owns (and closes) the fd. */
    private final class TunReadiness implements EpollIoHandle {
        private final FileDescriptor fd = new FileDescriptor(tun.fd());

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            readBurst();
        }

        @Override
        public void close() {
            // the Tun closes its own fd
        }
    }

    @Override
    public void close() {
        IoRegistration r = reading;
        if (r != null && r.isValid()) {
            r.cancel();
        }
        if (spare != null && port != null) {
            // The spare belongs to the bus thread; once that thread has stopped, nobody else can touch it.
            io.netty.channel.IoEventLoop loop = port.eventLoop();
            Runnable release = () -> {
                if (spare != null) {
                    spare.release();
                    spare = null;
                }
            };
            if (loop.isShuttingDown()) {
                release.run();
            } else {
                loop.execute(release);
            }
        }
    }
}
