package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Failures must name the operation, the errno and the fix. */
class NetdevErrorsTest extends NamespaceTestBase {

    @Test
    void secondOpenOfTheSameNameIsBusy() throws Exception {
        try (Tun first = inNs(() -> Tun.open(TOE, Set.of()))) {
            NetdevException e = assertThrows(NetdevException.class, () -> inNs(() -> Tun.open(TOE, Set.of())));
            assertEquals("EBUSY", e.errnoName());
            assertEquals("TUNSETIFF toe0", e.operation());
            assertEquals("TUNSETIFF toe0: Device or resource busy (EBUSY): the name toe0 is in use;"
                    + " pick another --name or remove the old device", e.getMessage());
            assertTrue(first.isOpen());
        }
    }

    @Test
    void nameOfANonTunDeviceIsInvalid() throws Exception {
        NetdevException e = assertThrows(NetdevException.class, () -> inNs(() -> Tun.open("lo", Set.of())));
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().contains("is not a TUN"), e.getMessage());
    }

    @Test
    void tooLongNameIsRefusedBeforeTheKernelTruncatesIt() throws Exception {
        NetdevException e = assertThrows(NetdevException.class,
                () -> inNs(() -> Tun.open("a-very-long-name0", Set.of())));
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().contains("at most 15"), e.getMessage());
    }

    @Test
    void tsoWithoutCsumIsExplained() throws Exception {
        NetdevException e = assertThrows(NetdevException.class,
                () -> inNs(() -> Tun.open(TOE, EnumSet.of(Tun.Offload.TSO4))));
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().startsWith("TUNSETOFFLOAD toe0 [TSO4]"), e.getMessage());
        assertTrue(e.getMessage().contains("need CSUM"), e.getMessage());
        // The failed open removed its half-made device.
        assertEquals(1, io.cardnet.netdev.testing.TestNamespace.run("ip", "-n", ns.name(), "link", "show", TOE)
                .exitCode());
    }

    @Test
    void missingInterfaceIsNamed() throws Exception {
        NetdevException e = assertThrows(NetdevException.class, () -> inNs(() -> {
            NetInterface.setMtu("nosuch0", 1500);
            return null;
        }));
        assertEquals("ENODEV", e.errnoName());
        assertTrue(e.getMessage().contains("no interface named nosuch0 in this network namespace"), e.getMessage());
        assertEquals("ENODEV", assertThrows(NetdevException.class, () -> inNs(() -> NetInterface.index("nosuch0")))
                .errnoName());
    }

    @Test
    void badMtuAndPrefixSayWhichArgument() throws Exception {
        try (Tun tun = inNs(() -> Tun.open(TOE, Set.of()))) {
            NetdevException mtu = assertThrows(NetdevException.class, () -> inNs(() -> {
                NetInterface.setMtu(tun.name(), 70000);
                return null;
            }));
            assertEquals("EINVAL", mtu.errnoName());
            assertTrue(mtu.getMessage().contains("MTU 70000"), mtu.getMessage());
            NetdevException prefix = assertThrows(NetdevException.class, () -> inNs(() -> {
                NetInterface.setIpv4Address(tun.name(), LOCAL, 33);
                return null;
            }));
            assertTrue(prefix.getMessage().contains("prefix length 33"), prefix.getMessage());
        }
    }

    @Test
    void deviceDownAndDeletedAreExplained() throws Exception {
        try (Tun tun = inNs(() -> Tun.open(TOE, Set.of()))) {
            byte[] packet = Packets.ipv4(Packets.addr("198.18.0.2"), Packets.addr("198.18.0.1"), Packets.UDP,
                    Packets.udp(1, 2, new byte[0]));
            ByteBuffer out = ByteBuffer.allocateDirect(VnetHeader.SIZE + packet.length).put(VnetHeader.SIZE, packet);
            NetdevException down = assertThrows(NetdevException.class, () -> tun.write(out));
            assertEquals("EIO", down.errnoName());
            assertTrue(down.getMessage().contains("toe0 is down"), down.getMessage());

            ns.ip("link", "del", TOE);
            assertTrue(tun.awaitReadable(100), "a deleted device polls as readable so read can report it");
            NetdevException gone = assertThrows(NetdevException.class, () -> tun.read(ByteBuffer.allocateDirect(2000)));
            assertEquals("EBADFD", gone.errnoName());
            assertTrue(gone.getMessage().contains("toe0 was deleted"), gone.getMessage());
        }
    }

    @Test
    void callReturnsResultsAndRethrowsOnAPlatformThreadInTheNamespace() throws Exception {
        Thread caller = Thread.currentThread();
        Thread worker = inNs(() -> {
            assertInTestNamespace();
            return Thread.currentThread();
        });
        assertNotSame(caller, worker);
        assertTrue(!worker.isVirtual());
        IllegalStateException thrown = new IllegalStateException("boom");
        assertSame(thrown, assertThrows(IllegalStateException.class, () -> inNs(() -> {
            throw thrown;
        })));
        assertInstanceOf(AssertionError.class, assertThrows(AssertionError.class, () -> inNs(() -> {
            throw new AssertionError("x");
        })));
    }

    @Test
    void startThreadRunsBodyInsideTheNamespace() throws Exception {
        CompletableFuture<String> seen = new CompletableFuture<>();
        Thread t = NetNamespace.startThread(ns.name(), "toe0-reader", () -> {
            try {
                assertInTestNamespace();
                seen.complete(Thread.currentThread().getName() + " daemon=" + Thread.currentThread().isDaemon());
            } catch (Throwable e) {
                seen.completeExceptionally(e);
            }
        });
        assertEquals("toe0-reader daemon=false", seen.get(2, TimeUnit.SECONDS));
        t.join(2000);
    }
}
