package io.cardnet.link.sim;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.Train;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a card VM asks of the simulator: its connection (QEMU's, from power-on) may wait untrained beyond the
 * heartbeat deadline; its end may train again on that same connection (the end reattached behind the virtio port)
 * and the link retrains; and DMA regions the lab made for the VM's PCI memory are used as they are and left.
 */
class VmCardPortTest {
    private static final Liveness LIVENESS = new Liveness(Duration.ofMillis(100), 5);

    @Test
    void anUntrainedCardConnectionOutlivesTheHeartbeatDeadlineAndTrainsLater() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-vmport");
        try (LinkSimulator sim = simulator(dir, null);
             SocketChannel card = connect(dir.resolve("card.sock"));
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, dir.resolve("host.sock"))) {
            Thread.sleep(4 * LIVENESS.deadline().toMillis());
            assertTrue(card.isOpen());
            assertEquals("TRAINING", sim.status().state(), "the host trained; the card is attached, silent, untrained");
            send(card, new Train(Protocol.VERSION, Role.ENDPOINT, Data.MAX_PACKET, Features.CSUM_UNNECESSARY));
            LinkUp up = host.next(LinkUp.class);
            assertTrue(up.epoch() >= 1);
            assertEquals("UP", sim.status().state());
        } finally {
            delete(dir);
        }
    }

    @Test
    void aTrainOnTheLiveConnectionRetrainsTheLinkWithANewEpoch() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-vmport");
        try (LinkSimulator sim = simulator(dir, null);
             TestEnd host = new TestEnd(Role.ROOT_COMPLEX, dir.resolve("host.sock"));
             SocketChannel card = connect(dir.resolve("card.sock"))) {
            Train train = new Train(Protocol.VERSION, Role.ENDPOINT, Data.MAX_PACKET, Features.CSUM_UNNECESSARY);
            send(card, train);
            LinkUp first = host.next(LinkUp.class);
            send(card, train);
            String down = host.next(String.class);
            assertTrue(down.contains("retrained"), down);
            LinkUp second = host.next(LinkUp.class);
            assertEquals(first.epoch() + 1, second.epoch(), "a retrain starts a new epoch");
            assertEquals("UP", sim.status().state());
        } finally {
            delete(dir);
        }
    }

    @Test
    void regionsMadeForAVmAreUsedAsTheyAreAndLeftForTheLab() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-vmport");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-vmport");
        try {
            Path h2c = dma.resolve("h2c.dma");
            Path c2h = dma.resolve("c2h.dma");
            DmaRegion.prepareForVm(h2c);
            DmaRegion.prepareForVm(c2h);
            assertEquals(DmaRegion.BAR_BYTES, Files.size(h2c));
            assertEquals(Long.bitCount(DmaRegion.BAR_BYTES), 1, "a PCI BAR is a power of two");
            assertTrue(DmaRegion.BAR_BYTES >= DmaRegion.bytes());
            Object key = DmaRegion.fileKeyOf(h2c);
            try (LinkSimulator sim = simulator(dir, dma);
                 TestEnd host = new TestEnd(Role.ROOT_COMPLEX, new BusAddress.Unix(dir.resolve("host.sock")), dma);
                 TestEnd card = new TestEnd(Role.ENDPOINT, new BusAddress.Unix(dir.resolve("card.sock")), dma)) {
                host.awaitUp();
                card.awaitUp();
                assertTrue(host.port.sharedMemory());
                assertEquals(key, DmaRegion.fileKeyOf(h2c), "the simulator replaced the VM's region file");
                byte[] p = io.cardnet.link.protocol.TestPackets.udp("through the VM's memory".getBytes());
                assertTrue(host.send(p));
                org.junit.jupiter.api.Assertions.assertArrayEquals(p, card.next(byte[].class));
            }
            assertTrue(Files.exists(h2c) && Files.exists(c2h), "the lab removes what it made, not the simulator");
            assertEquals(key, DmaRegion.fileKeyOf(h2c));
        } finally {
            delete(dma);
            delete(dir);
        }
    }

    private static LinkSimulator simulator(Path dir, Path dma) throws Exception {
        return new LinkSimulator(new SimulatorConfig(new BusAddress.Unix(dir.resolve("host.sock")),
                new BusAddress.Unix(dir.resolve("card.sock")), null, LIVENESS, 0, dma), new SimpleMeterRegistry()).start();
    }

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private static void send(SocketChannel ch, Train train) throws IOException {
        ByteBuf b = FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT, train);
        ByteBuffer nio = ByteBuffer.allocate(b.readableBytes());
        b.readBytes(nio);
        b.release();
        nio.flip();
        while (nio.hasRemaining()) {
            ch.write(nio);
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
