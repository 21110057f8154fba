package io.cardnet.benchmarks;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.netdev.InternetChecksum;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The per-descriptor work of the data path, one piece at a time: checking a DATA frame, encoding a DESC,
 * claiming and sealing a DMA slot, and the Internet checksum the verify mode falls back on.
 * Run: ./mvnw -Pjmh -pl benchmarks -am package -DskipTests && java -jar benchmarks/target/benchmarks.jar
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class DataPathBenchmarks {

    @Param({"1500", "65535"})
    int packetSize;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf frame;
    private ByteBuffer packet;
    private Path regionFile;
    private DmaRegion region;
    private long sequence;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        byte[] p = new byte[packetSize];
        p[0] = 0x45;
        p[2] = (byte) (packetSize >> 8);
        p[3] = (byte) packetSize;
        p[9] = 17;
        Data d = Data.of(alloc, 1, VnetHeader.none(), p);
        frame = d.content();
        packet = ByteBuffer.allocateDirect(packetSize).put(p).flip();
        regionFile = Files.createTempFile(Path.of("/dev/shm"), "cardnet-jmh", ".dma");
        region = DmaRegion.create(regionFile);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        frame.release();
        region.close();
        Files.deleteIfExists(regionFile);
    }

    /** What the simulator does with every descriptor it is given: check the frame like a socket's. */
    @Benchmark
    public Object checkDataFrame() {
        Decoded<Data> checked = FrameDecoder.data(frame.retainedSlice(0, frame.writerIndex()));
        if (checked instanceof Decoded.Ok<Data>(Data d)) {
            d.release();
        }
        return checked;
    }

    /** The 24-byte descriptor that crosses the socket instead of the packet. */
    @Benchmark
    public Object encodeDesc() {
        ByteBuf b = FrameEncoder.encodeControl(alloc, new Desc(++sequence, (int) (sequence % 256), packetSize + 26, 1));
        int n = b.readableBytes();
        b.release();
        return n;
    }

    /** A producer claiming its next slot and sealing the header around a packet already read into it. */
    @Benchmark
    public long claimAndSealSlot() {
        ByteBuf slot = region.slot((int) (++sequence % 256));
        Data d = Data.seal(slot, VnetHeader.SIZE + packetSize);
        d.sequence(sequence);
        return d.sequence();
    }

    /** The RFC 1071 sum over a whole packet (verify mode finishing a partial checksum in software). */
    @Benchmark
    public int internetChecksum() {
        return InternetChecksum.sum(packet, 0, packetSize, 0);
    }
}
