package io.cardnet.netdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;

/**
 * A doorbell between two processes: a named pipe (FIFO) that one end rings with a byte and the other end has in
 * its epoll set. Like an eventfd, but found by path, so two processes (or two containers sharing a tmpfs volume)
 * reach the same one without passing file descriptors.
 *
 * <p>Both ends open it read-write and non-blocking: opening never waits for the other end, a write never gets
 * EPIPE while the peer restarts, and a full pipe (64 KiB of unanswered rings) only means a ring is already
 * pending, which is all a doorbell says. The waiter drains every pending byte on each wake-up.
 */
public final class Bell implements AutoCloseable {
    private final Path path;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment one = arena.allocate(1);
    private final MemorySegment drain = arena.allocate(512);
    private volatile boolean closed;

    private Bell(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Makes the FIFO (owner-only) if it is not there; an existing FIFO is used as it is. */
    public static void create(Path path) throws NetdevException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            try {
                if (Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                    return;
                }
                Files.delete(path);
            } catch (java.io.IOException e) {
                throw new NetdevException("replace " + path, 0, e.getMessage());
            }
        }
        if (LibC.mkfifo(path.toString(), 0600) < 0) {
            throw new NetdevException("mkfifo " + path, LibC.errno(), "the directory must exist and be writable");
        }
    }

    /** Opens a FIFO {@link #create} made. */
    public static Bell open(Path path) throws NetdevException {
        int fd = LibC.open(path.toString(), LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0) {
            throw new NetdevException("open doorbell " + path, LibC.errno(),
                    "the simulator makes it next to its DMA regions when started with --dma");
        }
        return new Bell(path, fd);
    }

    public Path path() {
        return path;
    }

    /** The descriptor to watch for readability (epoll): readable means rung. */
    public int fd() {
        return fd;
    }

    /** Rings: one byte. False only if the pipe is full (a ring is pending anyway) or the bell is closed. */
    public boolean ring() {
        if (closed) {
            return false;
        }
        return LibC.write(fd, one, 1) == 1;
    }

    /**
     * Waits up to {@code millis} for a ring (for a thread of its own; a bus thread has the fd in its epoll set
     * instead). True if rung; the ring is still pending: {@link #drain} takes it.
     */
    public boolean await(int millis) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8);
            pfd.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, fd);
            pfd.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 4, LibC.POLLIN);
            return LibC.poll(pfd, 1, millis) > 0;
        }
    }

    /** Takes every pending ring; returns how many there were. */
    public int drain() {
        int n = 0;
        long r;
        while (!closed && (r = LibC.read(fd, drain, drain.byteSize())) > 0) {
            n += (int) r;
            if (r < drain.byteSize()) {
                break;
            }
        }
        return n;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(fd);
            arena.close();
        }
    }
}
