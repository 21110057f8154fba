package io.cardnet.link.sim;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.hostile.HostileEnd;
import io.cardnet.link.hostile.RawFrames;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.RxDone;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.link.protocol.Train;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile bus against a real end (a card's {@code BusPort}): a fake simulator on a real Unix socket, with real
 * DMA regions in /dev/shm, trains the end and then returns credits it never owed (more than the ring, and a
 * "negative" count), hands it DESCs naming a slot beyond the ring and a slot whose bytes lie about their length,
 * and a frame of no known type. The end refuses and counts each by kind, its credits never exceed the ring, it
 * stays up, receives the one good descriptor, and frees the refused ones' buffers with its RX_DONE.
 */
class HostileBusTest {
    private static final int DEPTH = 8;
    private static final long EPOCH = 7;

    @Test
    void anEndRefusesWhatAHostileBusHandsItAndCountsIt() throws Exception {
        Path dir = Files.createTempDirectory("cardnet-hostile-bus");
        Path dma = Files.createTempDirectory(Path.of("/dev/shm"), "cardnet-hostile-bus");
        Path socket = dir.resolve("card.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             DmaRegion h2c = DmaRegion.create(dma.resolve(Direction.H2C.tag() + ".dma"));
             DmaRegion c2h = DmaRegion.create(dma.resolve(Direction.C2H.tag() + ".dma"))) {
            server.bind(UnixDomainSocketAddress.of(socket));
            try (TestEnd card = new TestEnd(Role.ENDPOINT, new BusAddress.Unix(socket), dma);
                 RawFrames bus = new RawFrames(server.accept())) {
                assertNotNull(bus.next(Train.class), "the end trains first");
                bus.heartbeat();
                bus.send(new LinkUp(Protocol.VERSION, Data.MAX_PACKET, Features.CSUM_UNNECESSARY | Features.SHARED_MEMORY,
                        EPOCH, DEPTH, 1));
                card.awaitUp();
                assertEquals(DEPTH, card.port.credits());

                bus.send(new Interrupt(0, 1000));                                   // more credits than the ring
                bus.send(new Interrupt(0, -1));                                     // 2^32 - 1 of them
                await(() -> card.port.refusals(FrameFault.Kind.EXCESS_CREDITS), 2);
                assertEquals(DEPTH, card.port.credits(), "credits never exceed the ring");

                byte[] good = TestPackets.udp("from a hostile bus, the one good one".getBytes());
                int length = write(h2c, 1, good);
                bus.send(new Desc(1, 4000, length, (int) EPOCH));                   // a slot beyond the ring
                byte[] lying = TestPackets.udp(new byte[100]);
                lying[3] = 60;
                bus.send(new Desc(2, 2, write(h2c, 2, lying), (int) EPOCH));        // bytes that lie about their length
                bus.send(Unpooled.buffer().writeIntLE(4 + 3).writeByte(0x7f).writeByte(0).writeShortLE(0).writeZero(3));
                bus.send(new Desc(3, 3, write(h2c, 3, good), (int) EPOCH));
                bus.send(new Interrupt(3, 0));

                assertArrayEquals(good, card.next(byte[].class), "the good descriptor arrived whole");
                RxDone done = bus.next(RxDone.class);
                assertNotNull(done, "the end answered the interrupt");
                assertEquals(3, done.upTo(), "the refused descriptors' buffers are freed with the good one's");
                assertEquals(1, card.port.refusals(FrameFault.Kind.BAD_SLOT));
                assertEquals(1, card.port.refusals(FrameFault.Kind.BAD_LENGTH));
                await(() -> card.port.refusals(FrameFault.Kind.UNKNOWN_TYPE), 1);
                assertEquals(1, card.port.refusals(FrameFault.Kind.UNKNOWN_TYPE));
                assertTrue(card.port.isUp(), "the end is still up");
                assertTrue(card.events.stream().noneMatch(o -> o instanceof byte[]), "nothing else was delivered");
            }
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
            for (Direction d : Direction.values()) {
                Files.deleteIfExists(dma.resolve(d.tag() + ".dma"));
            }
            Files.deleteIfExists(dma);
        }
    }

    private static int write(DmaRegion region, long seq, byte[] packet) {
        return HostileEnd.writeFrame(region, (int) seq, seq, EPOCH, packet);
    }

    private static void await(LongSupplier value, long want) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsLong() < want && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }
}
