package io.cardnet.netdev;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.util.function.IntFunction;

/**
 * Configures an interface by name in the calling thread's network namespace, the way ifconfig
 * does: ioctls on a throwaway AF_INET datagram socket (the socket only selects the namespace and
 * the address family; no traffic goes through it).
 *
 * <p>Call these from a thread inside the namespace, e.g. in {@link NetNamespace#call}.
 */
public final class NetInterface {
    private static final long SIOCGIFFLAGS = 0x8913;
    private static final long SIOCSIFFLAGS = 0x8914;
    private static final long SIOCGIFADDR = 0x8915;
    private static final long SIOCSIFADDR = 0x8916;
    private static final long SIOCGIFNETMASK = 0x891b;
    private static final long SIOCSIFNETMASK = 0x891c;
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final long SIOCGIFINDEX = 0x8933;
    private static final int IFF_UP = 0x1;
    // Set while the device is up and its operational state is up, which for a TUN follows the
    // carrier. IFF_LOWER_UP (the carrier itself) is bit 16 and does not fit ifr_flags, a short.
    private static final int IFF_RUNNING = 0x40;

    private NetInterface() {
    }

    /** SIOCSIFMTU. A TUN accepts 68..65535. */
    public static void setMtu(String name, int mtu) throws NetdevException {
        String op = "SIOCSIFMTU " + name + " " + mtu;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            ifr.set(JAVA_INT, Ifreq.UNION, mtu);
            ioctl(op, name, SIOCSIFMTU, ifr, e -> e == Errno.EINVAL
                    ? "MTU " + mtu + " is outside what " + name + " accepts (see minmtu/maxmtu in `ip -d link show "
                            + name + "`; 68..65535 for a TUN)"
                    : null);
        }
    }

    /** SIOCGIFMTU. */
    public static int mtu(String name) throws NetdevException {
        String op = "SIOCGIFMTU " + name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            ioctl(op, name, SIOCGIFMTU, ifr, e -> null);
            return ifr.get(JAVA_INT, Ifreq.UNION);
        }
    }

    /**
     * Sets the interface's primary IPv4 address (replacing it if there is one) and its prefix:
     * SIOCSIFADDR then SIOCSIFNETMASK, which also installs the prefix route once the device is up.
     */
    public static void setIpv4Address(String name, Inet4Address address, int prefixLength) throws NetdevException {
        String text = address.getHostAddress() + "/" + prefixLength;
        if (prefixLength < 0 || prefixLength > 32) {
            throw new NetdevException("SIOCSIFNETMASK " + name + " " + text, Errno.EINVAL,
                    "prefix length " + prefixLength + " is not in 0..32");
        }
        if (address.isAnyLocalAddress()) {
            // SIOCSIFADDR with 0.0.0.0 deletes the address instead, which is not what the caller asked.
            throw new NetdevException("SIOCSIFADDR " + name + " " + text, Errno.EINVAL,
                    "0.0.0.0 cannot be an interface address");
        }
        try (Arena arena = Arena.ofConfined()) {
            String op = "SIOCSIFADDR " + name + " " + address.getHostAddress();
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            putSockaddrIn(ifr, address.getAddress());
            ioctl(op, name, SIOCSIFADDR, ifr, e -> e == Errno.EINVAL
                    ? address.getHostAddress() + " is not a usable interface address (multicast or reserved)"
                    : null);

            op = "SIOCSIFNETMASK " + name + " /" + prefixLength;
            int mask = prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
            putSockaddrIn(ifr, new byte[] {(byte) (mask >>> 24), (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask});
            ioctl(op, name, SIOCSIFNETMASK, ifr, e -> e == Errno.EADDRNOTAVAIL
                    ? "the address set just before on " + name + " is gone (changed concurrently?)"
                    : null);
        }
    }

    /**
     * The interface's primary IPv4 address and prefix as {@code A.B.C.D/N} (SIOCGIFADDR, SIOCGIFNETMASK), or null if it
     * has none. Needs no privilege: a process that only attaches to a device someone else configured checks it so.
     */
    public static String ipv4Address(String name) throws NetdevException {
        try (Arena arena = Arena.ofConfined()) {
            String op = "SIOCGIFADDR " + name;
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            try {
                ioctl(op, name, SIOCGIFADDR, ifr, e -> null);
            } catch (NetdevException e) {
                if (e.errno() == Errno.EADDRNOTAVAIL) {
                    return null;
                }
                throw e;
            }
            byte[] a = ifr.asSlice(Ifreq.UNION + 4, 4).toArray(JAVA_BYTE);
            ioctl("SIOCGIFNETMASK " + name, name, SIOCGIFNETMASK, ifr, e -> null);
            int mask = ifr.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN),
                    Ifreq.UNION + 4);
            return java.net.InetAddress.getByAddress(a).getHostAddress() + "/" + Integer.bitCount(mask);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always an IPv4 address", e);
        }
    }

    /** Sets or clears IFF_UP (ip link set NAME up/down), leaving the other flags as they are. */
    public static void setUp(String name, boolean up) throws NetdevException {
        String op = "SIOCSIFFLAGS " + name + (up ? " up" : " down");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            ioctl("SIOCGIFFLAGS " + name, name, SIOCGIFFLAGS, ifr, e -> null);
            int flags = Short.toUnsignedInt(ifr.get(JAVA_SHORT, Ifreq.UNION));
            flags = up ? flags | IFF_UP : flags & ~IFF_UP;
            ifr.set(JAVA_SHORT, Ifreq.UNION, (short) flags);
            ioctl(op, name, SIOCSIFFLAGS, ifr, e -> null);
        }
    }

    /** Whether IFF_UP is set (administratively up). */
    public static boolean isUp(String name) throws NetdevException {
        return (flags(name) & IFF_UP) != 0;
    }

    /**
     * Whether the interface is up and running, i.e. IFF_RUNNING; for a TUN that follows
     * {@link Tun#setCarrier} (with the kernel's link-watch delay, up to about a second). Always false
     * while the interface is down. Read through an ioctl rather than /sys/class/net, whose view
     * belongs to the namespace /sys was mounted in, not the caller's.
     */
    public static boolean hasCarrier(String name) throws NetdevException {
        return (flags(name) & IFF_RUNNING) != 0;
    }

    /** SIOCGIFINDEX: the interface index, unique within its namespace. */
    public static int index(String name) throws NetdevException {
        String op = "SIOCGIFINDEX " + name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            ioctl(op, name, SIOCGIFINDEX, ifr, e -> null);
            return ifr.get(JAVA_INT, Ifreq.UNION);
        }
    }

    private static int flags(String name) throws NetdevException {
        String op = "SIOCGIFFLAGS " + name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = Ifreq.allocate(arena, op, name);
            ioctl(op, name, SIOCGIFFLAGS, ifr, e -> null);
            return Short.toUnsignedInt(ifr.get(JAVA_SHORT, Ifreq.UNION));
        }
    }

    /** struct sockaddr_in at the ifreq union: family (host order), port 0, address (network order). */
    private static void putSockaddrIn(MemorySegment ifr, byte[] address) {
        ifr.asSlice(Ifreq.UNION, 16).fill((byte) 0);
        ifr.set(JAVA_SHORT, Ifreq.UNION, (short) LibC.AF_INET);
        MemorySegment.copy(address, 0, ifr, JAVA_BYTE, Ifreq.UNION + 4, 4);
    }

    private static void ioctl(String op, String name, long request, MemorySegment ifr, IntFunction<String> hint)
            throws NetdevException {
        int sock = LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0);
        if (sock < 0) {
            int e = LibC.errno();
            throw new NetdevException(op + " (socket AF_INET)", e, null);
        }
        try {
            if (LibC.ioctl(sock, request, ifr) < 0) {
                int e = LibC.errno();
                String specific = hint.apply(e);
                throw new NetdevException(op, e, specific != null ? specific : switch (e) {
                    case Errno.ENODEV, Errno.ENXIO -> "no interface named " + name + " in this network namespace";
                    case Errno.EPERM, Errno.EACCES -> "needs root or CAP_NET_ADMIN";
                    default -> null;
                });
            }
        } finally {
            LibC.close(sock);
        }
    }
}
