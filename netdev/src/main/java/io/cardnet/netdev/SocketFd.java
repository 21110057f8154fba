package io.cardnet.netdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * What a relay does to a connected socket it holds by descriptor: take its own descriptor of it, end its sending
 * (a FIN after what was sent), arrange a reset, read its pending error, close it.
 */
public final class SocketFd {
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

    public static void close(int fd) {
        LibC.close(fd);
    }
}
