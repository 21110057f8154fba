package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Things that need no privileges: ioctl numbers, errno plumbing, message format. */
class NativeBasicsTest {

    @Test
    void tunIoctlNumbersMatchLinuxHeaders() {
        // Values of the _IOW macros in linux/if_tun.h on x86_64 (and arm64, riscv64).
        assertEquals(0x400454caL, Tun.TUNSETIFF);
        assertEquals(0x400454d0L, Tun.TUNSETOFFLOAD);
        assertEquals(0x400454d8L, Tun.TUNSETVNETHDRSZ);
        assertEquals(0x400454dcL, Tun.TUNSETVNETLE);
        assertEquals(0x400454e2L, Tun.TUNSETCARRIER);
    }

    @Test
    void offloadBitsAreTunFlags() {
        assertEquals(0x07, Tun.Offload.mask(java.util.EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO6)));
        assertEquals(0x08, Tun.Offload.TSO_ECN.bit());
        assertEquals(0x10, Tun.Offload.UFO.bit());
    }

    @Test
    void messageNamesOperationErrnoAndFix() {
        NetdevException e = new NetdevException("TUNSETIFF toe0", 1, "needs root or CAP_NET_ADMIN");
        assertEquals("TUNSETIFF toe0: Operation not permitted (EPERM): needs root or CAP_NET_ADMIN", e.getMessage());
        assertEquals("EPERM", e.errnoName());
        assertEquals(1, e.errno());
        assertEquals("TUNSETIFF toe0", e.operation());
        assertEquals("read toe0: Device or resource busy (EBUSY)", new NetdevException("read toe0", 16, null).getMessage());
        assertEquals("EHWPOISON", new NetdevException("x", 133, null).errnoName());
        assertEquals("errno 4000", new NetdevException("x", 4000, null).errnoName());
    }

    @Test
    void errnoIsCapturedFromTheFailedCall() {
        int fd = LibC.open("/nonexistent/cardnet", LibC.O_RDONLY | LibC.O_CLOEXEC);
        assertEquals(-1, fd);
        assertEquals(Errno.ENOENT, LibC.errno());
        assertEquals(-1, LibC.close(-1));
        assertEquals(Errno.EBADF, LibC.errno());
    }

    @Test
    void missingNamespaceIsExplained() {
        String name = "cn-test-missing-" + ProcessHandle.current().pid();
        NetdevException e = assertThrows(NetdevException.class, () -> NetNamespace.call(name, () -> 1));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("no network namespace named " + name + " (see `ip netns list`)"),
                e.getMessage());
        NetdevException e2 = assertThrows(NetdevException.class,
                () -> NetNamespace.startThread(name, "reader", () -> { }));
        assertEquals("ENOENT", e2.errnoName());
        assertTrue(e2.getMessage().contains(name), e2.getMessage());
        NetdevException e3 = assertThrows(NetdevException.class, () -> NetNamespace.call("../etc", () -> 1));
        assertEquals("EINVAL", e3.errnoName());
    }
}
