package io.cardnet.link.sim;

import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.FrameType;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.link.protocol.Train;
import io.cardnet.netdev.VnetHeader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real simulator on real Unix sockets, one healthy end and one misbehaving end: every malformed frame
 * is counted, logged by name and dropped; the healthy end keeps its link and its traffic; and once the
 * rogue leaves, a healthy replacement trains and traffic flows again. Run for each port.
 */
class SimulatorBadInputTest {
    private static final Path LOG = Path.of("target", "sim-test.log");
    private Path dir;
    private LinkSimulator sim;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("cardnet-sim");
        sim = new LinkSimulator(new SimulatorConfig(new BusAddress.Unix(dir.resolve("host.sock")),
                new BusAddress.Unix(dir.resolve("card.sock")), null, new Liveness(Duration.ofMillis(100), 5), 0),
                new SimpleMeterRegistry()).start();
    }

    @AfterEach
    void stop() throws IOException {
        sim.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A misbehaving end speaking raw bytes. */
    private static final class RogueEnd implements AutoCloseable {
        final SocketChannel ch;

        RogueEnd(Path socket) throws IOException {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        }

        void send(ByteBuf b) throws IOException {
            ByteBuffer nio = ByteBuffer.allocate(b.readableBytes());
            b.readBytes(nio);
            b.release();
            nio.flip();
            while (nio.hasRemaining()) {
                ch.write(nio);
            }
        }

        /** Reads what the simulator sends until completion interrupts have returned {@code want} credits (5 s). */
        int creditsReturned(int want) throws IOException {
            io.netty.channel.embedded.EmbeddedChannel decoder =
                    new io.netty.channel.embedded.EmbeddedChannel(new io.cardnet.link.protocol.FrameDecoder());
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            int credits = 0;
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
            ch.configureBlocking(false);
            try {
                while (credits < want && System.nanoTime() < deadline) {
                    int n = ch.read(buf);
                    if (n > 0) {
                        buf.flip();
                        decoder.writeInbound(Unpooled.copiedBuffer(buf));
                        buf.clear();
                        Object f;
                        while ((f = decoder.readInbound()) != null) {
                            if (f instanceof io.cardnet.link.protocol.Interrupt irq) {
                                credits += irq.credits();
                            }
                            io.netty.util.ReferenceCountUtil.release(f);
                        }
                    } else {
                        Thread.onSpinWait();
                    }
                }
            } finally {
                ch.configureBlocking(true);
                decoder.finishAndReleaseAll();
            }
            return credits;
        }

        /**
         * Ends the stream where it is (possibly mid-frame), reads whatever the simulator sent until it closes
         * its side, then closes: the simulator sees the cut exactly where the rogue stopped.
         */
        @Override
        public void close() throws IOException {
            try {
                ch.shutdownOutput();
                ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
                while (ch.read(sink) >= 0) {
                    sink.clear();
                }
            } catch (IOException e) {
                // the simulator may already have gone: nothing left to drain
            } finally {
                ch.close();
            }
        }
    }

    private static ByteBuf frame(int length, int type, int bodyBytes) {
        return Unpooled.buffer().writeIntLE(length).writeByte(type).writeByte(0).writeShortLE(0).writeZero(bodyBytes);
    }

    private long faults(Role port, String kind) {
        Double v = sim.status().counters().get("fault/" + port.shortName() + "/" + kind);
        return v == null ? 0 : v.longValue();
    }

    private static long logLines(String needle) throws IOException {
        return Files.exists(LOG) ? Files.readAllLines(LOG).stream().filter(l -> l.contains(needle)).count() : 0;
    }

    @ParameterizedTest(name = "rogue on the {0} port")
    @EnumSource(Role.class)
    void malformedFramesAreCountedLoggedAndDroppedWhileTheHealthySideKeepsWorking(Role rogueRole) throws Exception {
        Role healthyRole = rogueRole.peer();
        Path rogueSocket = dir.resolve(rogueRole.shortName() + ".sock");
        Path healthySocket = dir.resolve(healthyRole.shortName() + ".sock");
        String port = rogueRole.shortName() + " port: dropped a malformed frame: ";
        long oversizeLogs = logLines(port + "OVERSIZE");
        long truncatedLogs = logLines(port + "TRUNCATED");

        try (TestEnd healthy = new TestEnd(healthyRole, healthySocket)) {
            try (RogueEnd rogue = new RogueEnd(rogueSocket)) {
                rogue.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT,
                        new Train(Protocol.VERSION, rogueRole, Data.MAX_PACKET, Features.CSUM_UNNECESSARY)));
                assertNotNull(healthy.next(LinkUp.class));

                rogue.send(frame(4 + 3, 0x7f, 3));                                     // unknown type
                rogue.send(frame(4 + 3, FrameType.HEARTBEAT.code(), 3));                // bad length for its type
                rogue.send(Unpooled.buffer().writeIntLE(70_000).writeZero(70_000));      // over 65535
                byte[] lying = TestPackets.udp(new byte[64]);
                lying[3] = 40;                                                          // IP length disagrees
                rogue.send(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), lying).content());
                byte[] notIp = TestPackets.udp(new byte[8]);
                notIp[0] = 0x35;
                rogue.send(Data.of(ByteBufAllocator.DEFAULT, 2, VnetHeader.none(), notIp).content());

                // After all that, a good descriptor still crosses to the healthy end, byte for byte.
                byte[] good = TestPackets.udp("still here".getBytes());
                Data posted = Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), good);
                posted.epoch(1);
                rogue.send(posted.content());
                rogue.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT, new Doorbell(1, 1)));
                assertArrayEquals(good, healthy.next(byte[].class));

                ByteBuf cut = Data.of(ByteBufAllocator.DEFAULT, 4, VnetHeader.none(), TestPackets.udp(new byte[400])).content();
                rogue.send(cut.retainedSlice(0, 100));
                cut.release();
            }
            String down = healthy.next(String.class);
            assertTrue(down.contains("went away"), down);

            assertEquals(1, faults(rogueRole, "unknown_type"));
            assertEquals(2, faults(rogueRole, "bad_length"));
            assertEquals(1, faults(rogueRole, "oversize"));
            assertEquals(1, faults(rogueRole, "not_ip"));
            assertEquals(1, faults(rogueRole, "truncated"));
            assertEquals(0, faults(healthyRole, "bad_length") + faults(healthyRole, "truncated"));
            assertEquals(oversizeLogs + 1, logLines(port + "OVERSIZE"), "a log line names the oversize fault");
            assertEquals(truncatedLogs + 1, logLines(port + "TRUNCATED"), "a log line names the truncation");

            // A healthy replacement trains, and traffic flows both ways again.
            try (TestEnd replacement = new TestEnd(rogueRole, rogueSocket)) {
                LinkUp up = replacement.next(LinkUp.class);
                assertEquals(up, healthy.next(LinkUp.class));
                byte[] hello = TestPackets.tcp("after the rogue".getBytes());
                assertTrue(replacement.send(hello));
                assertArrayEquals(hello, healthy.next(byte[].class));
                byte[] back = TestPackets.udp("and back".getBytes());
                assertTrue(healthy.send(back));
                assertArrayEquals(back, replacement.next(byte[].class));
            }
        }
        for (int i = 0; i < 100 && !"DOWN".equals(sim.status().state()); i++) {
            Thread.sleep(20);
        }
        assertEquals("DOWN", sim.status().state(), "both ends closed, yet the link is not down");
    }

    @org.junit.jupiter.api.Test
    void descriptorsLostToMalformedFramesStillReturnTheirCredits() throws Exception {
        try (TestEnd card = new TestEnd(Role.ENDPOINT, dir.resolve("card.sock"));
             RogueEnd host = new RogueEnd(dir.resolve("host.sock"))) {
            host.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT,
                    new Train(Protocol.VERSION, Role.ROOT_COMPLEX, Data.MAX_PACKET, Features.CSUM_UNNECESSARY)));
            card.next(LinkUp.class);
            // Sequence 1 is mangled on the way (its IP length lies), sequence 2 is fine.
            byte[] lying = TestPackets.udp(new byte[32]);
            lying[3] = 99;
            Data bad = Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), lying);
            bad.epoch(1);
            host.send(bad.content());
            byte[] good = TestPackets.udp("two".getBytes());
            Data second = Data.of(ByteBufAllocator.DEFAULT, 2, VnetHeader.none(), good);
            second.epoch(1);
            host.send(second.content());
            host.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT, new Doorbell(2, 1)));
            assertArrayEquals(good, card.next(byte[].class));
            // The card frees what it received; the head passes the lost sequence 1 too: two credits come back.
            assertEquals(2, host.creditsReturned(2));
            assertEquals(0, sim.status().counters().getOrDefault("ringfull/h2c", 0.0));
        }
    }

    @org.junit.jupiter.api.Test
    void trainingWithTheWrongVersionOrOnTheWrongPortIsRefusedWithAReason() throws Exception {
        try (RogueEnd wrongPort = new RogueEnd(dir.resolve("card.sock"))) {
            wrongPort.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT,
                    new Train(Protocol.VERSION, Role.ROOT_COMPLEX, Data.MAX_PACKET, 0)));
            String reason = readReject(wrongPort);
            assertTrue(reason.contains("connect it to the host port"), reason);
        }
        try (RogueEnd oldVersion = new RogueEnd(dir.resolve("host.sock"))) {
            oldVersion.send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT,
                    new Train(99, Role.ROOT_COMPLEX, Data.MAX_PACKET, 0)));
            String reason = readReject(oldVersion);
            assertTrue(reason.contains("version 99") && reason.contains("speaks version 1"), reason);
        }
    }

    private static String readReject(RogueEnd end) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (end.ch.read(buf) >= 0) {
            // read until the simulator closes the connection
        }
        buf.flip();
        byte[] all = new byte[buf.remaining()];
        buf.get(all);
        ByteBuf b = Unpooled.wrappedBuffer(all);
        // the simulator answers a refused training with exactly one frame, then closes
        assertEquals(FrameType.TRAIN_REJECT.code(), b.getUnsignedByte(4), "expected TRAIN_REJECT, got " + Arrays.toString(all));
        int len = (int) b.getUnsignedIntLE(0);
        return b.toString(8, len - 4, java.nio.charset.StandardCharsets.UTF_8);
    }
}
