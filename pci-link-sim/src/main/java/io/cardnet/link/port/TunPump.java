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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Moves packets between a TUN device and the bus — the same loop on both ends (toe0 on the host,
 * host0 on the card).
 *
 * <pre>
 *  TUN ──read (reader thread)──▶ checksum policy ──▶ descriptor ──▶ BusPort ──▶ simulator
 *  TUN ◀──write (bus thread)──── checksum policy ◀── descriptor ◀── BusPort ◀── simulator
 * </pre>
 *
 * The TUN's carrier follows the link: on while the link is up, off otherwise, so the kernel sees
 * NO-CARRIER exactly when the far end is unreachable.
 */
public final class TunPump implements BusPort.Listener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TunPump.class);
    /** Packets up to this size are copied into a right-sized buffer so a 64 KiB buffer isn't parked per ACK. */
    private static final int COPY_BELOW = 2048;
    /** Descriptors written before a flush, so a burst costs one syscall per batch, not per packet. */
    private static final int FLUSH_BATCH = 32;

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
    private volatile BusPort port;
    private volatile boolean running;
    private Thread reader;
    private long lastWriteErrorLog;

    public TunPump(Tun tun, io.cardnet.link.protocol.Role role, long offeredFeatures, boolean offload,
                   MeterRegistry registry) {
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

    /** Starts the reader thread; packets move once {@code port} reports the link up. */
    public void start(BusPort port) throws NetdevException {
        this.port = port;
        io.micrometer.core.instrument.FunctionCounter.builder("cardnet.tun.credit.stalls", port, BusPort::creditStalls)
                .description("times this end had no credit (its ring was full) and waited").tag("device", tun.name())
                .tag("direction", outbound.tag()).register(registry);
        io.micrometer.core.instrument.Gauge.builder("cardnet.tun.credits", port, BusPort::credits)
                .description("free ring slots this end may post into").tag("device", tun.name())
                .tag("direction", outbound.tag()).register(registry);
        tun.setCarrier(false);
        running = true;
        reader = Thread.ofPlatform().name("tun-reader-" + tun.name()).start(this::readLoop);
    }

    @Override
    public void linkUp(LinkUp up) {
        ChecksumPolicy next = ChecksumPolicy.forFeatures(up.features());
        try {
            if (next != policy && offload) {
                tun.setOffloads(next.offloads());
            }
            policy = next;
            tun.setCarrier(true);
            log.info("{} carrier on; checksums {}", tun.name(),
                    next instanceof ChecksumPolicy.Unnecessary ? "unnecessary (trusted bus)" : "verified by the receiver");
        } catch (NetdevException e) {
            log.error("{}: could not follow link up: {}", tun.name(), e.getMessage());
        }
    }

    @Override
    public void linkDown(String reason) {
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

    private void readLoop() {
        ByteBuf spare = null;
        int batch = 0;
        try {
            while (running) {
                BusPort p = port;
                // Wait for a credit before reading: with shared memory the packet goes straight into the slot
                // that credit stands for.
                while (p.isUp() && !p.isWritable() && running) {
                    p.flush();
                    batch = 0;
                    p.awaitWritable(50);
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
                    // Nothing read: an unposted slot is simply not claimed; a pooled buffer waits for the next read.
                    spare = tx.shared() ? null : buf;
                    if (batch > 0) {
                        p.flush();
                        batch = 0;
                    }
                    tun.awaitReadable(100);
                    continue;
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
                outPackets.increment();
                outBytes.increment(n - VnetHeader.SIZE);
                if (++batch >= FLUSH_BATCH) {
                    p.flush();
                    batch = 0;
                }
            }
        } catch (NetdevException e) {
            if (running) {
                log.error("{}: reading failed, this end stops moving packets: {}", tun.name(), e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (spare != null) {
                spare.release();
            }
        }
    }

    @Override
    public void close() {
        running = false;
        if (reader != null) {
            try {
                reader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
