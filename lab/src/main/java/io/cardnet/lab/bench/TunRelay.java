package io.cardnet.lab.bench;

import io.cardnet.lab.runtime.Shell;
import io.cardnet.link.port.ChecksumMode;
import io.cardnet.link.port.ChecksumPolicy;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.netdev.NetNamespace;
import io.cardnet.netdev.NetdevException;
import io.cardnet.netdev.Tun;
import io.cardnet.netdev.TunPoll;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;

/**
 * The TUN ceiling of this machine: what a path like the card's can move when nothing but one thread stands
 * between two TUN devices. Two namespaces each get a TUN (vnet headers, the offloads toe0 and host0 use for the
 * same checksum mode and offload setting); one thread polls both and copies each packet across, converting its
 * checksum state with the same {@link ChecksumPolicy} the bus ends apply (the sender's end outbound, the
 * receiver's end inbound). There is no bus, no ring, no second process: every figure the card reaches is a
 * fraction of this one, and the thread's CPU time says whether the relay itself was saturated.
 *
 * <p>The TUNs are not persistent, so they vanish with the thread's fds; the namespaces are removed on close,
 * whatever happened before.
 */
public final class TunRelay implements AutoCloseable {
    static final String A = "cardnet-bench-relay-a";
    static final String B = "cardnet-bench-relay-b";
    static final String ADDRESS_A = "198.18.2.1";
    static final String ADDRESS_B = "198.18.2.2";
    private static final String DEVICE_A = "relay-a";
    private static final String DEVICE_B = "relay-b";
    /** How often the forwarding thread looks up from an idle poll to see whether it should stop. */
    private static final int IDLE_MILLIS = 100;

    private final ChecksumPolicy policy;
    private Tun a;
    private Tun b;
    private Thread thread;
    private volatile boolean stopping;
    private volatile Throwable failure;
    // written by the forwarding thread only; read by others for reports
    private volatile long packets;
    private volatile long bytes;
    private volatile long refused;

    private TunRelay(ChecksumPolicy policy) {
        this.policy = policy;
    }

    /**
     * Brings up both namespaces and their TUNs at {@code mtu} and starts forwarding. Checksum state and offloads
     * follow {@code csum} and {@code offload} as a lab's would.
     */
    public static TunRelay start(int mtu, ChecksumMode csum, boolean offload) throws IOException {
        ChecksumPolicy policy = ChecksumPolicy.forFeatures(csum.features());
        Set<Tun.Offload> offloads = offload ? policy.offloads() : EnumSet.noneOf(Tun.Offload.class);
        TunRelay relay = new TunRelay(policy);
        try {
            BenchNamespaces.create(A, B);
            relay.a = open(A, DEVICE_A, offloads, ADDRESS_A, mtu);
            relay.b = open(B, DEVICE_B, offloads, ADDRESS_B, mtu);
            relay.thread = Thread.ofPlatform().name("tun-relay").daemon(true).start(relay::forward);
            return relay;
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw e;
        }
    }

    private static Tun open(String ns, String device, Set<Tun.Offload> offloads, String address, int mtu)
            throws IOException {
        Tun tun;
        try {
            tun = NetNamespace.call(ns, () -> Tun.open(device, offloads));
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot open a TUN in " + ns + ": " + e.getMessage(), e);
        }
        try {
            Shell.ipIn(ns, "link", "set", "dev", device, "mtu", Integer.toString(mtu));
            Shell.ipIn(ns, "addr", "add", address + "/30", "dev", device);
            Shell.ipIn(ns, "link", "set", "dev", device, "up");
            return tun;
        } catch (IOException | RuntimeException e) {
            tun.close();
            throw e;
        }
    }

    /** The forwarding loop: wait for either TUN, then move packets both ways until neither has one. */
    private void forward() {
        // One frame-shaped buffer, so ChecksumPolicy sees the packet exactly as a bus end does: the TUN reads the
        // vnet header and packet at Data.VNET_OFFSET, the same bytes go out to the other TUN unchanged otherwise.
        ByteBuf frame = Data.allocateForRead(UnpooledByteBufAllocator.DEFAULT);
        ByteBuffer io = frame.nioBuffer(Data.VNET_OFFSET, VnetHeader.SIZE + Data.MAX_PACKET);
        try (TunPoll poll = new TunPoll(a, b)) {
            while (!stopping) {
                if (poll.await(IDLE_MILLIS) == 0) {
                    continue;
                }
                boolean moved;
                do {
                    moved = copy(a, b, frame, io) | copy(b, a, frame, io);
                } while (moved && !stopping);
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            frame.release();
        }
    }

    /** Moves one packet from {@code from} to {@code to}, if one is waiting. */
    private boolean copy(Tun from, Tun to, ByteBuf frame, ByteBuffer io) throws NetdevException {
        io.clear();
        int n = from.read(io);
        if (n == 0) {
            return false;
        }
        Data data = Data.seal(frame, n);
        policy.outbound(data);
        io.position(0).limit(n);
        // the receiving end's refusal (--csum verify refuses GSO packets, which offloads off never make) or a full
        // TUN queue: the packet is dropped, as a bus end would drop it
        if (policy.deliverable(data) instanceof Decoded.Refused<Data> || to.write(io) == 0) {
            refused++;
        } else {
            packets++;
            bytes += n - VnetHeader.SIZE;
        }
        return true;
    }

    /** Packets forwarded either way so far. */
    public long packets() {
        return packets;
    }

    /** IP bytes forwarded either way so far. */
    public long bytes() {
        return bytes;
    }

    /** Packets dropped: refused by the checksum policy or not taken by a full TUN queue; a healthy run has none. */
    public long refused() {
        return refused;
    }

    /** CPU seconds the forwarding thread has used so far (user + system). */
    public double cpuSeconds() {
        return ManagementFactory.getThreadMXBean().getThreadCpuTime(thread.threadId()) / 1e9;
    }

    /** Stops forwarding and removes the TUNs and namespaces; rethrows what stopped the relay early, if anything. */
    @Override
    public void close() throws IOException {
        stopping = true;
        try {
            if (thread != null) {
                thread.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
            BenchNamespaces.remove(A, B);
        }
        if (failure != null) {
            throw new IOException("the TUN relay stopped early: " + failure, failure);
        }
    }
}
