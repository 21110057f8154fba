package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cardnet.netdev.testing.TestNamespace;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TunConfigTest extends NamespaceTestBase {

    @Test
    void createsAndConfiguresToeAsIpSeesIt() throws Exception {
        Tun tun = openConfiguredToe(65535);
        try {
            assertEquals(TOE, tun.name());
            String link = ns.ip("-d", "link", "show", TOE);
            assertTrue(link.contains("mtu 65535"), link);
            assertTrue(link.contains("tun type tun pi off vnet_hdr on"), link);
            assertTrue(link.contains("persist off"), link);
            String addr = ns.ip("addr", "show", "dev", TOE);
            assertTrue(addr.contains("inet 198.18.0.1/30"), addr);
            String route = ns.ip("route", "show", "dev", TOE);
            assertTrue(route.contains("198.18.0.0/30"), route);

            String oneLine = ns.ip("-o", "link", "show", TOE);
            int ipIndex = Integer.parseInt(oneLine.substring(0, oneLine.indexOf(':')));
            assertEquals(ipIndex, (int) inNs(() -> NetInterface.index(TOE)));
            assertTrue(inNs(() -> NetInterface.isUp(TOE)));
            assertEquals(65535, (int) inNs(() -> NetInterface.mtu(TOE)));
            assertTrue(inNs(() -> NetInterface.hasCarrier(TOE)));
            assertEquals(EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO6), tun.offloads());
        } finally {
            tun.close();
        }
        tun.close(); // idempotent
        TestNamespace.Result gone = TestNamespace.run("ip", "-n", ns.name(), "link", "show", TOE);
        assertNotEquals(0, gone.exitCode(), "toe0 should vanish with its fd: " + gone.output());
    }

    /**
     * The lab's toeK: a persistent multi-queue TUN someone else made and configured; its queues attach, detach and
     * attach again, and it stays (without carrier) when they close.
     */
    @Test
    void attachesToAPersistentMultiQueueToeItsMakerConfigured() throws Exception {
        ns.ip("tuntap", "add", "dev", TOE, "mode", "tun", "vnet_hdr", "multi_queue", "user", "0");
        assertEquals(null, inNs(() -> NetInterface.ipv4Address(TOE)));
        ns.ip("addr", "add", "198.18.0.1/30", "dev", TOE);
        ns.ip("link", "set", "dev", TOE, "up");
        assertEquals("198.18.0.1/30", inNs(() -> NetInterface.ipv4Address(TOE)));
        java.util.List<Tun> queues = inNs(() -> Tun.openQueues(TOE, 2, EnumSet.of(Tun.Offload.CSUM)));
        try {
            queues.get(1).setQueueAttached(false);
            queues.get(1).setQueueAttached(true);
            queues.getFirst().setCarrier(true);
            assertTrue(ns.ip("link", "show", TOE).contains("LOWER_UP"));
        } finally {
            queues.forEach(Tun::close);
        }
        String left = ns.ip("-d", "link", "show", TOE);
        assertTrue(left.contains("persist on") && left.contains("NO-CARRIER"), left);
        ns.ip("link", "del", "dev", TOE);
    }

    @Test
    void carrierShowsInIpLinkAndHasCarrier() throws Exception {
        try (Tun tun = openConfiguredToe(1500)) {
            assertTrue(ns.ip("link", "show", TOE).contains("LOWER_UP"));

            tun.setCarrier(false);
            // LOWER_UP follows the carrier at once; RUNNING (NO-CARRIER in ip, hasCarrier) follows
            // the operational state, which the kernel's link watcher updates a little later.
            assertFalse(ns.ip("link", "show", TOE).contains("LOWER_UP"));
            awaitTrue(Duration.ofSeconds(3), "NO-CARRIER in ip link and hasCarrier false",
                    () -> ns.ip("link", "show", TOE).contains("NO-CARRIER") && !inNs(() -> NetInterface.hasCarrier(TOE)));

            tun.setCarrier(true);
            awaitTrue(Duration.ofSeconds(3), "carrier back in ip link and hasCarrier true", () -> {
                String link = ns.ip("link", "show", TOE);
                return !link.contains("NO-CARRIER") && link.contains("LOWER_UP") && inNs(() -> NetInterface.hasCarrier(TOE));
            });

            inNs(() -> {
                NetInterface.setUp(TOE, false);
                return null;
            });
            assertFalse(inNs(() -> NetInterface.isUp(TOE)));
            assertFalse(inNs(() -> NetInterface.hasCarrier(TOE)), "a down interface never has IFF_RUNNING");
        }
    }

    @Test
    void kernelPicksNamesFromPatterns() throws Exception {
        try (Tun a = inNs(() -> Tun.open("toe%d", Set.of()));
                Tun b = inNs(() -> Tun.open("toe%d", Set.of()));
                Tun c = inNs(() -> Tun.open(null, Set.of()))) {
            assertEquals("toe0", a.name());
            assertEquals("toe1", b.name());
            assertEquals("tun0", c.name());
        }
    }

    @Test
    void setOffloadsChangesTheSetAndCloseWakesAWaitingReader() throws Exception {
        Tun tun = inNs(() -> Tun.open(TOE, Set.of()));
        try {
            tun.setOffloads(EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO_ECN, Tun.Offload.UFO));
            assertEquals(EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO_ECN, Tun.Offload.UFO),
                    tun.offloads());
            ByteBuffer buf = ByteBuffer.allocateDirect(VnetHeader.SIZE + 1500);
            assertEquals(0, tun.read(buf), "nothing to read from a down device");
            assertFalse(tun.awaitReadable(50));

            CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                try {
                    return tun.awaitReadable(5000);
                } catch (NetdevException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(100);
            long start = System.nanoTime();
            tun.close();
            assertFalse(waiter.get(1, TimeUnit.SECONDS), "close() wakes awaitReadable with false");
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(500));
            assertFalse(tun.isOpen());
            NetdevException e = assertThrows(NetdevException.class, () -> tun.read(buf));
            assertEquals("EBADF", e.errnoName());
            assertTrue(e.getMessage().contains("toe0 is closed"), e.getMessage());
        } finally {
            tun.close();
        }
    }
}
