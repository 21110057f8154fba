package io.cardnet.link.port;

import io.cardnet.link.protocol.BusAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * An end's bus connection through a virtio-serial port. In a card VM, QEMU connects the port
 * ({@code /dev/virtio-ports/NAME}) to the simulator's card socket, so the port's byte stream <em>is</em> the card's
 * bus connection: the descriptor and doorbell channel, while the packets stay in the ivshmem DMA windows.
 * {@link BusPort} speaks to sockets, so the bridge offers the port as a Unix socket (one end at a time) and
 * copies between the two.
 *
 * <p>It copies whole frames only ({@code u32} length first, as {@link io.cardnet.link.protocol.FrameDecoder}
 * reads them): an end that reconnects after missed heartbeats starts on a frame boundary, and the simulator never
 * gets half a frame from an end that went away mid-write. The simulator cannot see such a reconnect (its socket is
 * QEMU's and stays open), so it sees the new end train again on the same connection and retrains the link. When
 * the host side of the port closes (the simulator stopped; QEMU reconnects by itself), the end's connection is
 * closed too, so it retrains when the simulator is back.
 */
public final class VirtioPortBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VirtioPortBridge.class);
    /** Beyond this a length field is not a frame of this protocol: the stream lost its boundaries. */
    private static final int MAX_FRAME = 1 << 20;
    private static final long NOTICE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final BusAddress.VirtioPort port;
    private final Path socket;
    private final ServerSocketChannel server;
    private final LongAdder framesToHost = new LongAdder();
    private final LongAdder framesToEnd = new LongAdder();
    private final LongAdder framesDropped = new LongAdder();
    private volatile RandomAccessFile device;
    private volatile OutputStream toHost;
    private InputStream fromHostIn;
    private volatile SocketChannel end;
    private volatile boolean closed;

    private VirtioPortBridge(BusAddress.VirtioPort port, Path socket, ServerSocketChannel server) {
        this.port = port;
        this.socket = socket;
        this.server = server;
    }

    /** Listens on {@code socket} and starts copying as soon as the port exists; returns at once. */
    public static VirtioPortBridge start(BusAddress.VirtioPort port, Path socket) throws IOException {
        Files.createDirectories(socket.toAbsolutePath().getParent());
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        VirtioPortBridge b = new VirtioPortBridge(port, socket, server);
        Thread.ofPlatform().daemon().name("virtio-" + port.name() + "-in").start(b::fromHost);
        Thread.ofPlatform().daemon().name("virtio-" + port.name() + "-out").start(b::fromEnd);
        return b;
    }

    /** Where the end connects instead of the port. */
    public BusAddress.Unix address() {
        return new BusAddress.Unix(socket);
    }

    /** The character device of a virtio port: {@code /dev/virtio-ports/NAME}, or found by name in sysfs. */
    static Path devicePath(String name) throws IOException {
        Path link = Path.of("/dev/virtio-ports", name);
        if (Files.exists(link)) {
            return link;
        }
        Path sys = Path.of("/sys/class/virtio-ports");
        if (Files.isDirectory(sys)) {
            try (var ports = Files.list(sys)) {
                for (Path p : ports.toList()) {
                    Path n = p.resolve("name");
                    if (Files.isReadable(n) && Files.readString(n).strip().equals(name)) {
                        return Path.of("/dev", p.getFileName().toString());
                    }
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- the port to the end

    private void fromHost() {
        long lastNotice = 0;
        byte[] chunk = new byte[64 * 1024];
        WholeFrames frames = new WholeFrames(MAX_FRAME);
        while (!closed) {
            try {
                InputStream in = openDevice();
                if (in == null) {
                    long now = System.nanoTime();
                    if (now - lastNotice > NOTICE_NANOS) {
                        log.warn("no virtio port named {} yet (is virtio_console loaded? `ls /sys/class/virtio-ports`);"
                                + " waiting", port.name());
                        lastNotice = now;
                    }
                    sleep(200);
                    continue;
                }
                int n = in.read(chunk);
                if (n < 0) {
                    // The host side is not connected: the simulator is not up yet, or went away.
                    if (frames.buffered() > 0 || end != null) {
                        log.info("the host side of virtio port {} closed; the end reattaches when it is back", port.name());
                    }
                    frames.reset();
                    dropEnd();
                    sleep(100);
                    continue;
                }
                frames.feed(ByteBuffer.wrap(chunk, 0, n), this::deliverToEnd);
            } catch (WholeFrames.LostBoundaries e) {
                log.warn("virtio port {}: {} from the host: the stream lost its frame boundaries; dropping what is"
                        + " buffered and reattaching the end", port.name(), e.getMessage());
                dropEnd();
            } catch (IOException e) {
                log.warn("virtio port {}: {}; reopening it", port.name(), e.toString());
                closeDevice();
                frames.reset();
                dropEnd();
                sleep(200);
            }
        }
    }

    private void deliverToEnd(ByteBuffer frame) {
        SocketChannel ch = end;
        if (ch == null) {
            framesDropped.increment();
            return;
        }
        try {
            while (frame.hasRemaining()) {
                ch.write(frame);
            }
            framesToEnd.increment();
        } catch (IOException e) {
            framesDropped.increment();
            dropEnd();
        }
    }

    // ---------------------------------------------------------------- the end to the port

    private void fromEnd() {
        ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
        WholeFrames frames = new WholeFrames(MAX_FRAME);
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("virtio port {}: accepting the end failed: {}", port.name(), e.toString());
                    sleep(100);
                }
                continue;
            }
            dropEnd();
            end = ch;
            frames.reset();
            try {
                while (!closed && ch.read(chunk.clear()) >= 0) {
                    frames.feed(chunk.flip(), this::sendToHost);
                }
            } catch (IOException | WholeFrames.LostBoundaries e) {
                if (!closed) {
                    log.info("virtio port {}: the end's connection ended: {} (frames {})", port.name(), e.getMessage(),
                            counters());
                }
            }
            // a partial frame of an end that went away never reaches the simulator
            if (end == ch) {
                dropEnd();
            }
        }
    }

    private void sendToHost(ByteBuffer frame) {
        OutputStream out = toHost;
        if (out == null) {
            framesDropped.increment();
            return;
        }
        try {
            // only this thread writes to the port
            out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            framesToHost.increment();
        } catch (IOException e) {
            // the host side is not connected: what the end sends now has nowhere to go
            framesDropped.increment();
        }
    }

    // ---------------------------------------------------------------- the device

    /** The port's input, opened on first use (a virtio port admits one opener: one descriptor, both ways). */
    private InputStream openDevice() throws IOException {
        if (device == null) {
            Path path = devicePath(port.name());
            if (path == null) {
                return null;
            }
            RandomAccessFile d = new RandomAccessFile(path.toFile(), "rw");
            fromHostIn = new FileInputStream(d.getFD());
            toHost = new FileOutputStream(d.getFD());
            device = d;
            log.info("bus through virtio port {} ({})", port.name(), path.toRealPath());
        }
        return fromHostIn;
    }

    private void closeDevice() {
        RandomAccessFile d = device;
        device = null;
        toHost = null;
        closeQuietly(d);
    }

    private void dropEnd() {
        SocketChannel ch = end;
        end = null;
        closeQuietly(ch);
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already gone: closing is all that is left
            }
        }
    }

    /** Frames carried to the host, to the end, and dropped for want of a peer (said when an end's connection ends). */
    String counters() {
        return "to host " + framesToHost.sum() + ", to end " + framesToEnd.sum() + ", dropped " + framesDropped.sum();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        dropEnd();
        closeQuietly(server);
        closeDevice();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // a tmpfs that is going away with the card
        }
    }
}
