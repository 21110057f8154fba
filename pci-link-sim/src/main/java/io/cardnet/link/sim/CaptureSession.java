package io.cardnet.link.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.link.capture.Pcapng;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Direction;
import io.cardnet.netdev.VnetHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A capture streamed over a control connection. The tap runs on the bus thread and only copies the packet
 * into a pcapng block on a bounded queue — when the reader falls behind, records are dropped and counted,
 * the link never waits. Counters are read on the bus thread in the same step that adds and removes the tap,
 * so "frames the bus carried in the window" and "packets captured + dropped" agree exactly.
 *
 * <p>Stream after the JSON reply line: messages {@code u8 kind, u32 length, bytes}; kind 1 is a pcapng block,
 * kind 2 the closing JSON summary. The client sends the line {@code stop} (or closes) to end it.
 */
final class CaptureSession implements BusTap {
    private static final Logger log = LoggerFactory.getLogger(CaptureSession.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long QUEUE_BYTES = 256L << 20;
    static final int KIND_BLOCK = 1;
    static final int KIND_SUMMARY = 2;

    private final LinkSimulator sim;
    private final int snaplen;
    private final long maxCount;
    private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicLong captured = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean stopping;

    CaptureSession(LinkSimulator sim, int snaplen, long maxCount) {
        this.sim = sim;
        this.snaplen = snaplen;
        this.maxCount = maxCount;
    }

    @Override
    public void record(Direction direction, Data data, long ringSlot) {
        if (stopping || (maxCount > 0 && captured.get() + dropped.get() >= maxCount)) {
            stopping = true;
            return;
        }
        int n = data.packetLength();
        int take = Math.min(n, snaplen);
        if (queuedBytes.get() + take > QUEUE_BYTES) {
            dropped.incrementAndGet();
            return;
        }
        Instant now = Instant.now();
        byte[] block = Pcapng.packet(now.getEpochSecond() * 1_000_000_000L + now.getNano(),
                data.content().nioBuffer(Data.PACKET_OFFSET, take), n,
                direction == Direction.H2C ? Pcapng.OUTBOUND : Pcapng.INBOUND, comment(direction, data, ringSlot));
        queuedBytes.addAndGet(block.length);
        captured.incrementAndGet();
        queue.add(block);
    }

    static String comment(Direction direction, Data d, long slot) {
        int flags = d.vnetFlags();
        String csum = (flags & VnetHeader.FLAG_NEEDS_CSUM) != 0
                ? "partial(start=" + d.csumStart() + ",offset=" + d.csumOffset() + ")"
                : (flags & VnetHeader.FLAG_DATA_VALID) != 0 ? "unnecessary" : "none";
        String gso = switch (d.gsoType() & ~VnetHeader.GSO_ECN) {
            case VnetHeader.GSO_NONE -> "none";
            case VnetHeader.GSO_TCPV4 -> "tcpv4/" + d.gsoSize();
            case VnetHeader.GSO_TCPV6 -> "tcpv6/" + d.gsoSize();
            case VnetHeader.GSO_UDP -> "udp/" + d.gsoSize();
            default -> "type" + d.gsoType() + "/" + d.gsoSize();
        };
        return direction.tag() + " seq=" + d.sequence() + " slot=" + slot + " csum=" + csum + " gso=" + gso;
    }

    /** Runs the capture until the client says stop, closes, or the count is reached. */
    void run(BufferedReader in, DataOutputStream out) throws IOException {
        Map<String, Long> start = sim.onBus(() -> {
            if (sim.capturing()) {
                return null;
            }
            sim.tap(this);
            return counts();
        });
        if (start == null) {
            out.write((JSON.writeValueAsString(Map.of("error", "a capture is already running on this bus; stop it first"))
                    + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return;
        }
        Map<String, Object> started = new LinkedHashMap<>();
        started.put("capture", "started");
        started.put("snaplen", snaplen);
        started.put("start", start);
        out.write((JSON.writeValueAsString(started) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        log.info("capture started (snaplen {}, count {})", snaplen, maxCount > 0 ? maxCount : "unlimited");
        Thread stopper = Thread.ofVirtual().name("capture-stop").start(() -> {
            try {
                String line;
                while ((line = in.readLine()) != null && !line.trim().equals("stop")) {
                    // only "stop" means anything here
                }
            } catch (IOException ignored) {
                // the client went away: that stops the capture too
            }
            stopping = true;
        });
        Map<String, Long> end = null;
        try {
            while (true) {
                byte[] block = queue.poll(50, TimeUnit.MILLISECONDS);
                if (block != null) {
                    queuedBytes.addAndGet(-block.length);
                    send(out, KIND_BLOCK, block);
                    continue;
                }
                out.flush();
                if (stopping && end == null) {
                    end = sim.onBus(() -> {
                        sim.tap(BusTap.NONE);
                        return counts();
                    });
                    continue;
                }
                if (end != null && queue.isEmpty()) {
                    break;
                }
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("capture", "stopped");
            summary.put("start", start);
            summary.put("end", end);
            summary.put("captured", captured.get());
            summary.put("dropped", dropped.get());
            send(out, KIND_SUMMARY, JSON.writeValueAsBytes(summary));
            out.flush();
            log.info("capture stopped: {} packets, {} dropped", captured.get(), dropped.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (end == null) {
                sim.onBus(() -> {
                    sim.tap(BusTap.NONE);
                    return null;
                });
            }
            stopper.interrupt();
        }
    }

    private Map<String, Long> counts() {
        LinkStatus s = sim.snapshotOnBus();
        Map<String, Long> m = new LinkedHashMap<>();
        s.traffic().forEach((dir, t) -> m.put(dir, t.frames()));
        return m;
    }

    private static void send(DataOutputStream out, int kind, byte[] bytes) throws IOException {
        out.writeByte(kind);
        out.writeInt(bytes.length);
        out.write(bytes);
    }
}
