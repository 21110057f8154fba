package io.cardnet.netdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A pipe through which splice(2) moves one TCP socket's bytes to another inside the kernel: socket → pipe → socket,
 * the pipe holding references to the received pages, never a copy in user space. Both ends are non-blocking, and
 * every call moves what it can now: a count, {@link #AGAIN} when nothing can move until the descriptor is ready,
 * or 0 for the source's end of stream.
 *
 * <p>Not thread-safe: its owner calls it from one thread (the relay's event loop).
 */
public final class SplicePipe implements AutoCloseable {
    /** Nothing moved: the socket has nothing to read, its send buffer is full, or the pipe is full. */
    public static final long AGAIN = -1;

    private final int readEnd;
    private final int writeEnd;
    private final int capacity;
    private boolean closed;

    private SplicePipe(int readEnd, int writeEnd, int capacity) {
        this.readEnd = readEnd;
        this.writeEnd = writeEnd;
        this.capacity = capacity;
    }

    /**
     * A new pipe, asked to hold {@code wanted} bytes (F_SETPIPE_SZ); if the kernel refuses (over
     * /proc/sys/fs/pipe-max-size, or the user's pipe pages spent) it keeps its default of 64 KiB, which only means
     * more calls per byte.
     */
    public static SplicePipe open(int wanted) throws NetdevException {
        int read;
        int write;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if (LibC.pipe2(fds, LibC.O_NONBLOCK | LibC.O_CLOEXEC) < 0) {
                throw new NetdevException("pipe2", LibC.errno(), "the process is out of file descriptors (ulimit -n)");
            }
            read = fds.getAtIndex(JAVA_INT, 0);
            write = fds.getAtIndex(JAVA_INT, 1);
        }
        int size = LibC.fcntl(write, LibC.F_SETPIPE_SZ, wanted);
        return new SplicePipe(read, write, size > 0 ? size : 1 << 16);
    }

    /** The bytes the pipe holds at most (it may hold fewer: the kernel counts its slots in pages). */
    public int capacity() {
        return capacity;
    }

    /** Moves up to {@code max} bytes from {@code socket} into the pipe: the count, 0 at end of stream, or AGAIN. */
    public long fillFrom(int socket, long max) throws NetdevException {
        return splice(socket, writeEnd, max, "splice from socket " + socket);
    }

    /** Moves up to {@code max} bytes from the pipe into {@code socket}: the count, or AGAIN. */
    public long drainTo(int socket, long max) throws NetdevException {
        return splice(readEnd, socket, max, "splice to socket " + socket);
    }

    /**
     * Copies {@code bytes} (native memory) into the pipe with write(2), for bytes that were read into user space
     * before splicing began: the count written, or AGAIN when the pipe is full.
     */
    public long fill(MemorySegment bytes) throws NetdevException {
        return orAgain(() -> LibC.write(writeEnd, bytes, bytes.byteSize()), "write to pipe");
    }

    private static long splice(int in, int out, long max, String what) throws NetdevException {
        return orAgain(() -> LibC.splice(in, out, max, LibC.SPLICE_F_MOVE | LibC.SPLICE_F_NONBLOCK), what);
    }

    /** Makes a non-blocking call, again if a signal interrupted it: its count, AGAIN for EAGAIN, else throws. */
    private static long orAgain(java.util.function.LongSupplier call, String what) throws NetdevException {
        while (true) {
            long n = call.getAsLong();
            if (n >= 0) {
                return n;
            }
            int errno = LibC.errno();
            if (errno == Errno.EAGAIN) {
                return AGAIN;
            }
            if (errno != Errno.EINTR) {
                throw new NetdevException(what, errno, null);
            }
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.close(readEnd);
            LibC.close(writeEnd);
        }
    }
}
