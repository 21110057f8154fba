package io.cardnet.netdev;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One poll(2) over two TUN devices, for a single thread that serves both (a relay): {@link Tun#awaitReadable}
 * waits for one device only. Reuse one instance on one thread; it holds its pollfd array.
 */
public final class TunPoll implements AutoCloseable {
    /** Bit set in {@link #await}'s answer when the first device is readable. */
    public static final int FIRST = 1;
    /** Bit set in {@link #await}'s answer when the second device is readable. */
    public static final int SECOND = 2;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment fds = arena.allocate(16, 8);
    private final Tun first;
    private final Tun second;

    public TunPoll(Tun first, Tun second) {
        this.first = first;
        this.second = second;
        // struct pollfd { int fd; short events; short revents; } [2]
        fds.set(JAVA_INT, 0, first.fd());
        fds.set(JAVA_SHORT, 4, LibC.POLLIN);
        fds.set(JAVA_INT, 8, second.fd());
        fds.set(JAVA_SHORT, 12, LibC.POLLIN);
    }

    /**
     * Waits up to {@code timeoutMillis} for either device to have a packet (or an error, which the next read
     * reports). Close the devices only after the polling thread has stopped: a closed fd is not a wake-up.
     *
     * @return {@link #FIRST} and/or {@link #SECOND}, or 0 on timeout
     */
    public int await(int timeoutMillis) throws NetdevException {
        fds.set(JAVA_SHORT, 6, (short) 0);
        fds.set(JAVA_SHORT, 14, (short) 0);
        int n = LibC.poll(fds, 2, timeoutMillis);
        if (n < 0) {
            int e = LibC.errno();
            if (e == Errno.EINTR) {
                return 0;
            }
            throw new NetdevException("poll " + first.name() + ", " + second.name(), e, null);
        }
        return (fds.get(JAVA_SHORT, 6) != 0 ? FIRST : 0) | (fds.get(JAVA_SHORT, 14) != 0 ? SECOND : 0);
    }

    @Override
    public void close() {
        arena.close();
    }
}
