package io.cardnet.netdev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A multi-queue TUN as the kernel runs it: flows spread over the attached queues by their hash, a detached queue
 * gets none, and closing every queue removes the device.
 */
class TunMultiQueueTest extends NamespaceTestBase {
    private static final int FLOWS = 64;

    @Test
    void flowsSpreadOverAttachedQueuesOnly() throws Exception {
        List<Tun> queues = inNs(() -> {
            List<Tun> q = Tun.openQueues(TOE, 2, EnumSet.of(Tun.Offload.CSUM, Tun.Offload.TSO4, Tun.Offload.TSO6));
            NetInterface.setMtu(TOE, 65535);
            NetInterface.setIpv4Address(TOE, LOCAL, 30);
            NetInterface.setUp(TOE, true);
            return q;
        });
        try {
            assertEquals(2, queues.size());
            assertEquals(TOE, queues.get(1).name(), "both queues belong to one device");
            assertTrue(ns.ip("-d", "link", "show", TOE).contains("multi_queue"), ns.ip("-d", "link", "show", TOE));

            int[] both = sendFlowsAndCount(queues);
            System.out.printf("multi-queue TUN: %d flows landed %d / %d on queues 0 / 1%n", FLOWS, both[0], both[1]);
            assertEquals(FLOWS, both[0] + both[1], "every packet reached a queue");
            assertTrue(both[0] > 0 && both[1] > 0, "64 flows all hashed to one of two queues");

            queues.get(1).setQueueAttached(false);
            int[] one = sendFlowsAndCount(List.of(queues.get(0)));
            assertEquals(FLOWS, one[0], "with queue 1 detached, queue 0 gets every flow");

            queues.get(1).setQueueAttached(true);
            queues.get(1).setQueueAttached(true); // attaching an attached queue is not an error
            int[] again = sendFlowsAndCount(queues);
            assertEquals(FLOWS, again[0] + again[1]);
            assertTrue(again[1] > 0, "queue 1 gets flows again once attached");
        } finally {
            queues.forEach(Tun::close);
        }
        assertTrue(io.cardnet.netdev.testing.TestNamespace.run("ip", "-n", ns.name(), "link", "show", TOE).exitCode() != 0,
                "toe0 should vanish with its last queue");
    }

    /** One UDP datagram from each of FLOWS source ports to the peer; counts what each queue reads. */
    private int[] sendFlowsAndCount(List<Tun> queues) throws Exception {
        inNs(() -> {
            for (int i = 0; i < FLOWS; i++) {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(LOCAL, 0))) {
                    byte[] b = new byte[16];
                    s.send(new DatagramPacket(b, b.length, new InetSocketAddress(PEER, 9)));
                }
            }
            return null;
        });
        int[] counts = new int[queues.size()];
        ByteBuffer buf = ByteBuffer.allocateDirect(VnetHeader.SIZE + 65535);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (counts[0] + (counts.length > 1 ? counts[1] : 0) < FLOWS && System.nanoTime() < deadline) {
            boolean any = false;
            for (int q = 0; q < queues.size(); q++) {
                buf.clear();
                int n = queues.get(q).read(buf);
                if (n > 0) {
                    any = true;
                    // only our datagrams: IPv4, UDP (the kernel may send other packets, e.g. IPv6 solicitations)
                    if ((buf.get(VnetHeader.SIZE) >> 4) == 4 && buf.get(VnetHeader.SIZE + 9) == 17) {
                        counts[q]++;
                    }
                }
            }
            if (!any) {
                Thread.sleep(1);
            }
        }
        return counts;
    }
}
