package io.cardnet.netdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What a relay does to a connected socket it holds by descriptor: take its own descriptor of it, end its sending
 * (a FIN after what was sent), arrange a reset, read its pending error, close it.
 */
public final class SocketFd {
    private static final long SIOCATMARK = 0x8905;
    private SocketFd() {
    }

    /** A new descriptor (close-on-exec) of the same socket: the socket lives until both are closed. */
    public static int duplicate(int fd) throws NetdevException {
        int d = LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0);
        if (d < 0) {
            throw new NetdevException("fcntl F_DUPFD_CLOEXEC " + fd, LibC.errno(),
                    "the process is out of file descriptors (ulimit -n)");
        }
        return d;
    }

    /** shutdown(SHUT_WR): the peer gets a FIN after every byte already written, and can still send. */
    public static void shutdownOutput(int fd) throws NetdevException {
        if (LibC.shutdown(fd, LibC.SHUT_WR) < 0) {
            throw new NetdevException("shutdown SHUT_WR " + fd, LibC.errno(), null);
        }
    }

    /** SO_LINGER {on, 0 s}: the socket's close sends a RST instead of a FIN. Best effort: a dead socket has no peer. */
    public static void resetOnClose(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment linger = arena.allocate(JAVA_INT, 2); // struct linger { int l_onoff; int l_linger; }
            linger.setAtIndex(JAVA_INT, 0, 1);
            linger.setAtIndex(JAVA_INT, 1, 0);
            LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger);
        }
    }

    /** The socket's pending error (SO_ERROR, which reading clears), as text, e.g. "Connection reset by peer (ECONNRESET)". */
    public static String pendingError(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 4);
            if (LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_ERROR, value, length) < 0) {
                return "SO_ERROR unreadable: " + Errno.name(LibC.errno());
            }
            int errno = value.get(JAVA_INT, 0);
            return errno == 0 ? "no error pending" : LibC.strerror(errno) + " (" + Errno.name(errno) + ")";
        }
    }

    /**
     * True if the next byte to read is TCP urgent data's mark (ioctl SIOCATMARK). splice(2) stops there for good
     * (the kernel's tcp_read_sock does not read past an urgent mark), where read(2) goes on.
     */
    public static boolean atUrgentMark(int fd) throws NetdevException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment at = arena.allocate(JAVA_INT);
            if (LibC.ioctl(fd, SIOCATMARK, at) < 0) {
                throw new NetdevException("ioctl SIOCATMARK " + fd, LibC.errno(), null);
            }
            return at.get(JAVA_INT, 0) != 0;
        }
    }

    /**
     * read(2) of up to {@code buf}'s size: the count, 0 at end of stream, -1 if nothing is there now. Past an urgent
     * mark, without SO_OOBINLINE, the urgent byte itself is left out (as every reader without MSG_OOB sees it).
     */
    public static long read(int fd, MemorySegment buf) throws NetdevException {
        long n = LibC.read(fd, buf, buf.byteSize());
        if (n < 0) {
            int errno = LibC.errno();
            if (errno == Errno.EAGAIN || errno == Errno.EINTR) {
                return -1;
            }
            throw new NetdevException("read " + fd, errno, null);
        }
        return n;
    }

    public static void close(int fd) {
        LibC.close(fd);
    }
}
