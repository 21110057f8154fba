package io.cardnet.netdev;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A TUN device opened with {@code IFF_TUN | IFF_NO_PI | IFF_VNET_HDR}: every read returns, and
 * every write takes, one 10-byte {@link VnetHeader} followed by one IP packet.
 *
 * <p>The device is created in the network namespace of the thread that calls {@link #open} (see
 * {@link NetNamespace}); it is not persistent, so it disappears when the Tun is closed. If a persistent TUN of that
 * name exists (made with {@code ip tuntap add ... user UID}), open attaches to it instead, which its owner may do
 * without CAP_NET_ADMIN, and it stays when closed. The fd is
 * non-blocking: a reader loops {@link #read} until it returns 0, then {@link #awaitReadable}.
 *
 * <p>Thread safety: one reader and any number of writers may use a Tun concurrently, and
 * {@link #close()} may be called from any thread: it wakes {@link #awaitReadable} at once and waits
 * for calls in progress (all non-blocking) before closing the fd, so no call can ever act on a
 * recycled fd number.
 */
public final class Tun implements AutoCloseable {

    /** TUN_F_* bits of TUNSETOFFLOAD: what the reader of this TUN promises to handle. */
    public enum Offload {
        /** The reader accepts packets whose L4 checksum is left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM). */
        CSUM(0x01),
        /** The reader accepts IPv4 TCP super-packets to segment itself; needs CSUM. */
        TSO4(0x02),
        /** The reader accepts IPv6 TCP super-packets; needs CSUM. */
        TSO6(0x04),
        /** TSO packets may carry ECN (CWR); needs TSO4 or TSO6. */
        TSO_ECN(0x08),
        /** UDP fragmentation offload; needs CSUM. Accepted but ignored by kernels since 4.14. */
        UFO(0x10);

        private final int bit;

        Offload(int bit) {
            this.bit = bit;
        }

        /** The TUN_F_* value. */
        public int bit() {
            return bit;
        }

        static int mask(Set<Offload> offloads) {
            int mask = 0;
            for (Offload o : offloads) {
                mask |= o.bit;
            }
            return mask;
        }
    }

    // From linux/if_tun.h; the _IOW numbers are checked in TunIoctlTest.
    static final long TUNSETIFF = LibC.iow('T', 202, Integer.BYTES);
    static final long TUNSETOFFLOAD = LibC.iow('T', 208, Integer.BYTES);
    static final long TUNSETVNETHDRSZ = LibC.iow('T', 216, Integer.BYTES);
    static final long TUNSETVNETLE = LibC.iow('T', 220, Integer.BYTES);
    static final long TUNSETCARRIER = LibC.iow('T', 226, Integer.BYTES);
    static final long TUNSETQUEUE = LibC.iow('T', 217, Integer.BYTES);
    private static final short IFF_TUN = 0x0001;
    private static final short IFF_MULTI_QUEUE = 0x0100;
    private static final short IFF_ATTACH_QUEUE = 0x0200;
    private static final short IFF_DETACH_QUEUE = 0x0400;
    /** The kernel's limit is 256 queues per TUN; cardnet never asks for more than this. */
    public static final int MAX_QUEUES = 16;
    private static final short IFF_NO_PI = 0x1000;
    private static final short IFF_VNET_HDR = 0x4000;
    private static final String TUN_PATH = "/dev/net/tun";

    // Low bits: calls currently using fd. Sign bit: closed.
    private final AtomicInteger users = new AtomicInteger();
    private final int fd;
    // An eventfd polled next to fd, so close() can wake a reader parked in awaitReadable.
    private final int wakeFd;
    private final String name;
    private volatile Set<Offload> offloads;

    private Tun(int fd, int wakeFd, String name, Set<Offload> offloads) {
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.name = name;
        this.offloads = offloads;
    }

    /**
     * Creates (or attaches to a free persistent) TUN device in the calling thread's network namespace.
     *
     * @param name the interface name, at most 15 bytes; may contain {@code %d} ("toe%d"), and
     *     {@code null} or empty lets the kernel pick {@code tun%d}
     * @param offloads what the reader can handle; see {@link #setOffloads}
     */
    public static Tun open(String name, Set<Offload> offloads) throws NetdevException {
        return open(name, offloads, false);
    }

    /**
     * Creates a TUN device with {@code queues} queues ({@code IFF_MULTI_QUEUE}), one fd each, the way a multi-queue
     * NIC driver (virtio-net, vhost) attaches one queue pair per CPU: the kernel spreads flows over the attached
     * queues by their hash, so one flow stays on one queue. Closing every queue removes the device.
     */
    public static java.util.List<Tun> openQueues(String name, int queues, Set<Offload> offloads) throws NetdevException {
        if (queues < 1 || queues > MAX_QUEUES) {
            throw new IllegalArgumentException("queues must be 1.." + MAX_QUEUES + ", was " + queues);
        }
        java.util.List<Tun> opened = new java.util.ArrayList<>();
        try {
            opened.add(open(name, offloads, true));
            for (int q = 1; q < queues; q++) {
                opened.add(open(opened.getFirst().name(), offloads, true));
            }
            return java.util.List.copyOf(opened);
        } catch (NetdevException | RuntimeException e) {
            opened.forEach(Tun::close);
            throw e;
        }
    }

    private static Tun open(String name, Set<Offload> offloads, boolean multiQueue) throws NetdevException {
        String requested = name == null ? "" : name;
        String label = requested.isEmpty() ? "tun%d" : requested;
        Set<Offload> wanted = copy(offloads);
        int fd = LibC.open(TUN_PATH, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd < 0) {
            int e = LibC.errno();
            throw new NetdevException("open " + TUN_PATH, e, openHint(e));
        }
        int wakeFd = -1;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, "TUNSETIFF " + label, requested);
            ifr.set(JAVA_SHORT, Ifreq.UNION, (short) (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | (multiQueue ? IFF_MULTI_QUEUE : 0)));
            if (LibC.ioctl(fd, TUNSETIFF, ifr) < 0) {
                int e = LibC.errno();
                throw new NetdevException("TUNSETIFF " + label, e, setIffHint(e, label));
            }
            String actual = Ifreq.name(ifr);

            MemorySegment intArg = arena.allocate(JAVA_INT);
            intArg.set(JAVA_INT, 0, VnetHeader.SIZE);
            if (LibC.ioctl(fd, TUNSETVNETHDRSZ, intArg) < 0) {
                int e = LibC.errno();
                throw new NetdevException("TUNSETVNETHDRSZ " + actual + " " + VnetHeader.SIZE, e, null);
            }
            // Virtio 1.0 headers are little-endian. On a little-endian CPU the legacy format is too,
            // so a kernel without TUNSETVNETLE (before 4.1: EINVAL) is fine there.
            intArg.set(JAVA_INT, 0, 1);
            if (LibC.ioctl(fd, TUNSETVNETLE, intArg) < 0) {
                int e = LibC.errno();
                if (!(e == Errno.EINVAL && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) {
                    throw new NetdevException("TUNSETVNETLE " + actual, e,
                            e == Errno.EINVAL ? "this kernel cannot use little-endian virtio headers"
                                    + " on a big-endian CPU (needs Linux 4.1+)" : null);
                }
            }
            applyOffloads(fd, actual, wanted);

            wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (wakeFd < 0) {
                int e = LibC.errno();
                throw new NetdevException("eventfd for " + actual, e, null);
            }
            return new Tun(fd, wakeFd, actual, wanted);
        } catch (NetdevException | RuntimeException | Error e) {
            // Closing the only fd also removes the half-configured device.
            LibC.close(fd);
            if (wakeFd >= 0) {
                LibC.close(wakeFd);
            }
            throw e;
        }
    }

    /**
     * TUNSETQUEUE: attaches this queue (the kernel may steer packets to it) or detaches it (it gets none, and a
     * write to it fails), like {@code ethtool -L combined N} on a multi-queue NIC. Only for {@link #openQueues}.
     */
    public void setQueueAttached(boolean attached) throws NetdevException {
        enter("TUNSETQUEUE " + name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, "TUNSETQUEUE " + name, "");
            ifr.set(JAVA_SHORT, Ifreq.UNION, attached ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE);
            if (LibC.ioctl(fd, TUNSETQUEUE, ifr) < 0) {
                int e = LibC.errno();
                // attaching an attached queue (or detaching a detached one) is EINVAL: nothing to do
                if (e != Errno.EINVAL) {
                    throw new NetdevException("TUNSETQUEUE " + name + (attached ? " attach" : " detach"), e, null);
                }
            }
        } finally {
            exit();
        }
    }

    /** The interface name the kernel gave the device. */
    public String name() {
        return name;
    }

    public int fd() {
        return fd;
    }

    public boolean isOpen() {
        return users.get() >= 0;
    }

    /** The offloads last set successfully. */
    public Set<Offload> offloads() {
        return offloads;
    }

    /**
     * TUNSETOFFLOAD: tells the kernel which partial-checksum and super-packets the reader accepts.
     * TSO4, TSO6 and UFO need CSUM, and TSO_ECN needs TSO4 or TSO6; other combinations are EINVAL.
     */
    public void setOffloads(Set<Offload> offloads) throws NetdevException {
        Set<Offload> wanted = copy(offloads);
        enter("TUNSETOFFLOAD " + name);
        try {
            applyOffloads(fd, name, wanted);
            this.offloads = wanted;
        } finally {
            exit();
        }
    }

    /**
     * Reads one packet (vnet header + IP packet) into {@code dst} between its position and limit,
     * and advances the position.
     *
     * <p>A packet longer than the room in {@code dst} is silently truncated by the kernel, so give it
     * {@code VnetHeader.SIZE + 65535} bytes when TSO is on, else {@code VnetHeader.SIZE + MTU}.
     *
     * @param dst a direct buffer with at least {@link VnetHeader#SIZE} bytes remaining
     * @return the bytes read, or 0 if no packet is waiting
     */
    public int read(ByteBuffer dst) throws NetdevException {
        MemorySegment seg = segment(dst);
        if (seg.byteSize() < VnetHeader.SIZE) {
            throw new IllegalArgumentException("dst has " + seg.byteSize() + " bytes remaining; a TUN read needs "
                    + VnetHeader.SIZE + " for the virtio_net_hdr plus room for the packet");
        }
        enter("read " + name);
        try {
            while (true) {
                long n = LibC.read(fd, seg, seg.byteSize());
                if (n >= 0) {
                    dst.position(dst.position() + (int) n);
                    return (int) n;
                }
                int e = LibC.errno();
                if (e == Errno.EAGAIN) {
                    return 0;
                }
                if (e != Errno.EINTR) {
                    throw new NetdevException("read " + name, e, stateHint(e, name));
                }
            }
        } finally {
            exit();
        }
    }

    /**
     * Writes one vnet header + IP packet from {@code src} between its position and limit, and
     * advances the position. The kernel takes the packet whole or not at all.
     *
     * @param src a direct buffer
     * @return the bytes written, or 0 in the unexpected case that the TUN queue is full (EAGAIN)
     * @throws NetdevException EINVAL for a malformed vnet header or IP version, EIO while the
     *     interface is down, EBADFD once it has been deleted
     */
    public int write(ByteBuffer src) throws NetdevException {
        MemorySegment seg = segment(src);
        enter("write " + name);
        try {
            while (true) {
                long n = LibC.write(fd, seg, seg.byteSize());
                if (n >= 0) {
                    src.position(src.position() + (int) n);
                    return (int) n;
                }
                int e = LibC.errno();
                if (e == Errno.EAGAIN) {
                    return 0;
                }
                if (e != Errno.EINTR) {
                    throw new NetdevException("write " + name + " (" + seg.byteSize() + " bytes)", e,
                            e == Errno.EINVAL
                                    ? "the kernel rejected the packet: bad virtio_net_hdr or IP header"
                                            + " (the 10-byte header must be followed by an IPv4/IPv6 packet;"
                                            + " csum_start+csum_offset+2 and hdr_len must lie within it)"
                                    : stateHint(e, name));
                }
            }
        } finally {
            exit();
        }
    }

    /**
     * Waits until a packet can be read, for at most {@code timeoutMillis} (negative: forever).
     *
     * @return true if {@link #read} will not block (a packet, or an error it will report, is
     *     waiting); false on timeout or when {@link #close()} is called meanwhile
     */
    public boolean awaitReadable(int timeoutMillis) throws NetdevException {
        enter("poll " + name);
        try (Arena arena = Arena.ofConfined()) {
            // struct pollfd { int fd; short events; short revents; } [2]
            MemorySegment fds = arena.allocate(16, 8);
            fds.set(JAVA_INT, 0, fd);
            fds.set(JAVA_SHORT, 4, LibC.POLLIN);
            fds.set(JAVA_INT, 8, wakeFd);
            fds.set(JAVA_SHORT, 12, LibC.POLLIN);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(timeoutMillis, 0));
            int timeout = timeoutMillis;
            while (true) {
                int n = LibC.poll(fds, 2, timeout);
                if (n >= 0) {
                    if (fds.get(JAVA_SHORT, 14) != 0) {
                        return false; // woken by close()
                    }
                    // POLLERR/POLLHUP count as readable: the next read reports what went wrong.
                    return fds.get(JAVA_SHORT, 6) != 0;
                }
                int e = LibC.errno();
                if (e != Errno.EINTR) {
                    throw new NetdevException("poll " + name, e, null);
                }
                if (timeoutMillis >= 0) {
                    timeout = (int) Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
                }
            }
        } finally {
            exit();
        }
    }

    /**
     * TUNSETCARRIER: the link's carrier, shown by {@code ip link} as LOWER_UP or NO-CARRIER.
     * The kernel updates the operational state (IFF_RUNNING, what {@link NetInterface#hasCarrier}
     * reports) asynchronously, typically within a second.
     */
    public void setCarrier(boolean up) throws NetdevException {
        enter("TUNSETCARRIER " + name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(JAVA_INT);
            arg.set(JAVA_INT, 0, up ? 1 : 0);
            if (LibC.ioctl(fd, TUNSETCARRIER, arg) < 0) {
                int e = LibC.errno();
                throw new NetdevException("TUNSETCARRIER " + name + " " + (up ? "on" : "off"), e, switch (e) {
                    case Errno.EPERM, Errno.EACCES -> "needs CAP_NET_ADMIN in the device's network namespace";
                    case Errno.EINVAL -> "this kernel has no TUNSETCARRIER (needs Linux 5.0+)";
                    default -> stateHint(e, name);
                });
            }
        } finally {
            exit();
        }
    }

    /**
     * Closes the fd, which removes the (non-persistent) device. Idempotent; wakes a concurrent
     * {@link #awaitReadable} and waits for concurrent reads and writes to return first.
     */
    @Override
    public void close() {
        int before = users.getAndUpdate(s -> s | Integer.MIN_VALUE);
        if (before < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            LibC.write(wakeFd, one, Long.BYTES);
        }
        // Everything in flight is a non-blocking syscall or a poll the eventfd just woke.
        while (users.get() != Integer.MIN_VALUE) {
            LockSupport.parkNanos(20_000);
        }
        LibC.close(fd);
        LibC.close(wakeFd);
    }

    @Override
    public String toString() {
        return "Tun[" + name + ", fd " + fd + (isOpen() ? "" : ", closed") + "]";
    }

    private void enter(String operation) throws NetdevException {
        if (users.getAndIncrement() < 0) {
            users.getAndDecrement();
            throw new NetdevException(operation, Errno.EBADF, "the TUN device " + name + " is closed");
        }
    }

    private void exit() {
        users.getAndDecrement();
    }

    private static void applyOffloads(int fd, String name, Set<Offload> offloads) throws NetdevException {
        // TUNSETOFFLOAD takes the mask itself, not a pointer to it.
        if (LibC.ioctl(fd, TUNSETOFFLOAD, Offload.mask(offloads)) < 0) {
            int e = LibC.errno();
            throw new NetdevException("TUNSETOFFLOAD " + name + " " + offloads, e, e == Errno.EINVAL
                    ? "offloads " + offloads + " rejected: TSO4, TSO6 and UFO need CSUM, TSO_ECN needs TSO4 or TSO6"
                    : stateHint(e, name));
        }
    }

    private static Set<Offload> copy(Set<Offload> offloads) {
        EnumSet<Offload> set = EnumSet.noneOf(Offload.class);
        if (offloads != null) {
            set.addAll(offloads);
        }
        return Collections.unmodifiableSet(set);
    }

    private static MemorySegment segment(ByteBuffer buffer) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("TUN I/O needs a direct ByteBuffer (ByteBuffer.allocateDirect)");
        }
        return MemorySegment.ofBuffer(buffer); // position..limit
    }

    private static String openHint(int errno) {
        return switch (errno) {
            case Errno.ENOENT -> "load the tun module (modprobe tun); in a container, create the node with"
                    + " mknod /dev/net/tun c 10 200";
            case Errno.ENODEV, Errno.ENXIO -> "the tun driver is not available; load the tun module (modprobe tun)";
            case Errno.EPERM, Errno.EACCES -> "needs root or CAP_NET_ADMIN, and read/write access to " + TUN_PATH;
            default -> null;
        };
    }

    private static String setIffHint(int errno, String name) {
        return switch (errno) {
            // tun_not_capable(): attaching to a persistent device needs only its owner's uid (and group), not a capability
            case Errno.EPERM, Errno.EACCES -> "creating a TUN needs CAP_NET_ADMIN; attaching to a persistent one needs"
                    + " its owner's uid (ip tuntap add dev " + name + " mode tun ... user UID) or CAP_NET_ADMIN";
            case Errno.EBUSY, Errno.EEXIST ->
                    "the name " + name + " is in use; pick another --name or remove the old device";
            case Errno.EINVAL -> "the name " + name + " is not a valid interface name, belongs to a device that is not"
                    + " a TUN, or to a TUN made with a different number of queues (multi_queue or not); pick another --name";
            case Errno.ENFILE -> "no free name matches " + name;
            default -> null;
        };
    }

    /** Errors that describe the device's state rather than the call. */
    private static String stateHint(int errno, String name) {
        return switch (errno) {
            // The fd outlives its device when someone runs `ip link del`.
            case Errno.EBADFD -> "the device " + name + " was deleted while this fd was open";
            // tun_get_user drops writes to a device that is not IFF_UP.
            case Errno.EIO -> "the device " + name + " is down; bring it up first (NetInterface.setUp or ip link set "
                    + name + " up)";
            default -> null;
        };
    }
}
