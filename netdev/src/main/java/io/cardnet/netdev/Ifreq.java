package io.cardnet.netdev;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct ifreq}: a 16-byte NUL-padded interface name followed by a 24-byte union (its
 * largest member, {@code struct ifmap}, is 24 bytes on 64-bit), 40 bytes in all. Every member this
 * module uses (flags, mtu, ifindex, sockaddr_in) starts at the union, offset 16.
 */
final class Ifreq {
    static final long SIZE = 40;
    /** IFNAMSIZ: the name field, including the terminating NUL. */
    static final int NAME_SIZE = 16;
    /** Offset of the union: ifr_flags (short), ifr_mtu / ifr_ifindex (int), ifr_addr (sockaddr). */
    static final long UNION = 16;

    private Ifreq() {
    }

    /**
     * A zeroed ifreq carrying {@code name}; an empty name lets TUNSETIFF pick one ({@code tun%d}).
     *
     * @throws NetdevException EINVAL if the name does not fit IFNAMSIZ
     */
    static MemorySegment allocate(Arena arena, String operation, String name) throws NetdevException {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        // Checked here because the kernel would silently use a truncated, different name.
        if (bytes.length >= NAME_SIZE || name.indexOf('\0') >= 0) {
            throw new NetdevException(operation, Errno.EINVAL,
                    "interface name '" + name + "' is " + bytes.length
                            + " bytes; Linux allows at most 15 (IFNAMSIZ 16 including the NUL)");
        }
        MemorySegment ifr = arena.allocate(SIZE, 8);
        MemorySegment.copy(bytes, 0, ifr, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
        return ifr;
    }

    /** The name the kernel left in the struct (TUNSETIFF writes back the name it chose). */
    static String name(MemorySegment ifr) {
        return ifr.asSlice(0, NAME_SIZE).getString(0);
    }
}
