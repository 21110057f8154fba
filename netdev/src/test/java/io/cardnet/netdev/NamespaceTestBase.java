package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.cardnet.netdev.testing.RootRequired;
import io.cardnet.netdev.testing.TestNamespace;
import java.net.InetAddress;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Root tests: each test gets its own fresh namespace, deleted afterwards whatever happened. Devices
 * are only ever created on {@link NetNamespace} threads, never in the root namespace.
 */
@ExtendWith(RootRequired.class)
@Timeout(10)
abstract class NamespaceTestBase {
    static final String TOE = "toe0";
    static final Inet4Address LOCAL = v4("198.18.0.1");
    static final Inet4Address PEER = v4("198.18.0.2");

    TestNamespace ns;

    @BeforeEach
    void createNamespace() throws Exception {
        ns = TestNamespace.create();
    }

    @AfterEach
    void deleteNamespace() throws Exception {
        if (ns != null) {
            ns.close();
        }
    }

    <T> T inNs(Callable<T> work) throws Exception {
        return NetNamespace.call(ns.name(), work);
    }

    /** toe0 with CSUM|TSO4|TSO6, 198.18.0.1/30, up; opened inside the test namespace. */
    Tun openConfiguredToe(int mtu) throws Exception {
        return inNs(() -> {
            assertInTestNamespace();
            Tun tun = Tun.open(TOE, EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO6));
            try {
                NetInterface.setMtu(TOE, mtu);
                NetInterface.setIpv4Address(TOE, LOCAL, 30);
                NetInterface.setUp(TOE, true);
                return tun;
            } catch (Exception | Error e) {
                tun.close();
                throw e;
            }
        });
    }

    /** Guards the root namespace: the current thread's netns must be the test's. */
    void assertInTestNamespace() throws Exception {
        Object expected = Files.getAttribute(Path.of("/run/netns", ns.name()), "unix:ino");
        String link = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        assertEquals("net:[" + expected + "]", link, "thread is not inside " + ns.name());
    }

    static void awaitTrue(Duration limit, String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + limit + ": " + what);
            }
            Thread.sleep(10);
        }
    }

    private static Inet4Address v4(String dotted) {
        try {
            return (Inet4Address) InetAddress.getByName(dotted);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
