package io.cardnet.link.hostile;

import io.cardnet.link.dma.DmaRegion;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Direction;
import io.cardnet.link.protocol.Doorbell;
import io.cardnet.link.protocol.Features;
import io.cardnet.link.protocol.Frame;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.FrameType;
import io.cardnet.link.protocol.Interrupt;
import io.cardnet.link.protocol.LinkUp;
import io.cardnet.link.protocol.Protocol;
import io.cardnet.link.protocol.Role;
import io.cardnet.link.protocol.RxDone;
import io.cardnet.link.protocol.TestPackets;
import io.cardnet.link.protocol.Train;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A hostile end of the bus: it connects to a simulator's port like a card's (or host's) firmware would, trains
 * with shared memory, writes into its own DMA region and then sends every kind of bad input a broken or malicious
 * firmware could: DESCs naming another slot, lengths no slot holds, IP headers that lie about their length,
 * replayed, stale-epoch and far-ahead sequences, doorbells of another epoch, beyond what was posted and behind the
 * last (a flood of them), RX_DONEs that would return credits for nothing, frames only the simulator may send,
 * unknown types, a slot rewritten after it was posted, and a frame cut mid-header. It keeps heartbeating meanwhile,
 * so the simulator refuses what it sends rather than declaring it gone. {@link #attack} sends the lot and returns
 * what the simulator must have counted ({@link Expected}). Used by the simulator's tests and by the lab's
 * HostileCardIT against a running lab.
 */
public final class HostileEnd implements AutoCloseable {
    /** What {@link #attack} must have made the simulator count, on the hostile end's port and direction. */
    public record Expected(int badSlot, int badLength, int unknownType, int replayed, int staleEpoch, int outOfWindow,
                           int doorbellStaleEpoch, int doorbellBeyondPosted, int doorbellBehind,
                           int rxDoneStaleEpoch, int rxDoneBeyondDelivered, byte[] delivered) {
    }

    private final Role role;
    private final RawFrames bus;
    private final DmaRegion tx;
    private long epoch;

    /** Connects to {@code socket} as {@code role} and maps its transmit DMA region in {@code dmaDir}. */
    public HostileEnd(Role role, Path socket, Path dmaDir) throws IOException {
        this.role = role;
        this.tx = DmaRegion.open(dmaDir.resolve(Direction.from(role).tag() + ".dma"));
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        this.bus = new RawFrames(ch);
    }

    /** Trains with shared memory only (no direct rings, so every descriptor crosses the simulator) and waits for LINK_UP. */
    public LinkUp train() throws IOException, InterruptedException {
        send(new Train(Protocol.VERSION, role, Data.MAX_PACKET, Features.CSUM_UNNECESSARY | Features.SHARED_MEMORY));
        bus.heartbeat();
        LinkUp up = bus.next(LinkUp.class);
        if (up == null) {
            throw new IllegalStateException("no LINK_UP within 10 s; heard " + bus.received);
        }
        if (!Features.has(up.features(), Features.SHARED_MEMORY)) {
            throw new IllegalStateException("the link came up without shared memory: " + up);
        }
        return up;
    }

    /**
     * Sends every kind of bad input, with one good descriptor first (sequence 1, which must reach the peer whole,
     * and no other packet may), then a flood of {@code flood} doorbells behind the last; returns what the simulator
     * must have counted. A slot rewritten after its DESC (a descriptor whose bytes lie once the simulator has let it
     * pass) is refused either by the simulator or by the peer, whichever looked second; it is not in the result.
     */
    public Expected attack(LinkUp up, int flood) throws IOException {
        int depth = up.ringDepth();
        epoch = up.epoch();
        int tag = (int) epoch & 0xffff;
        byte[] good = TestPackets.udp("the one good descriptor".getBytes(StandardCharsets.UTF_8));
        int goodLength = write(1, good, depth);
        send(new Desc(1, 1 % depth, goodLength, tag));
        send(new Doorbell(1, epoch));

        send(new Desc(2, (2 + 1) % depth, write(2, good, depth), tag));                        // another sequence's slot
        send(new Desc(3, 3 % depth, DmaRegion.SLOT_BYTES + 1, tag));                           // longer than a slot
        byte[] lying = TestPackets.udp(new byte[64]);
        lying[3] = 40;                                                                          // IP length says 40
        send(new Desc(4, 4 % depth, write(4, lying, depth), tag));
        send(new Desc(1, 1 % depth, goodLength, tag));                                          // replayed
        send(new Desc(5, 5 % depth, write(5, good, depth), tag ^ 1));                          // another epoch's
        long far = 5 + 10L * depth;
        send(new Desc(far, (int) (far % depth), write(far, good, depth), tag));                 // beyond its credits

        send(new Doorbell(4, epoch + 1));                                                       // another epoch's
        send(new Doorbell(1_000_000, epoch));                                                   // beyond what was posted
        ByteBuf burst = Unpooled.buffer();
        for (int i = 0; i < flood; i++) {                                                       // behind the last, a flood
            burst.writeBytes(encoded(new Doorbell(0, epoch)));
        }
        send(burst);
        send(new RxDone(5, epoch + 1));                                                         // another epoch's
        send(new RxDone(1_000_000, epoch));                                                     // credits for nothing
        send(new Interrupt(0, 1_000_000));                                                      // the simulator's frame
        send(Unpooled.buffer().writeIntLE(4 + 3).writeByte(0x7f).writeByte(0).writeShortLE(0).writeZero(3));
        send(Unpooled.buffer().writeIntLE(4 + 3).writeByte(FrameType.HEARTBEAT.code()).writeByte(0).writeShortLE(0)
                .writeZero(3));                                                                 // a body of the wrong size

        // A descriptor whose bytes change after it was posted: valid when sent, lying when read.
        int length = write(5, good, depth);
        send(new Desc(5, 5 % depth, length, tag));
        tx.slot(5 % depth).setByte(Data.PACKET_OFFSET + 3, 40);
        send(new Doorbell(5, epoch));
        return new Expected(1, 3, 2, 1, 1, 1, 1, 1, flood, 1, 1, good);
    }

    /** Writes a DATA frame of {@code packet} for sequence {@code seq} of this epoch into its slot; returns the DESC's length. */
    private int write(long seq, byte[] packet, int depth) {
        return writeFrame(tx, (int) (seq % depth), seq, epoch, packet);
    }

    /**
     * Writes a DATA frame of {@code packet} (no virtio flags) for {@code seq} in {@code epoch} into a DMA slot, as a
     * producer does before its DESC; returns the DESC's length.
     */
    public static int writeFrame(DmaRegion region, int slot, long seq, long epoch, byte[] packet) {
        ByteBuf b = region.slot(slot);
        b.setZero(Data.VNET_OFFSET, VnetHeader.SIZE);
        b.setBytes(Data.PACKET_OFFSET, packet);
        Data d = Data.seal(b, VnetHeader.SIZE + packet.length, seq);
        d.epoch(epoch);
        return d.content().writerIndex();
    }

    private static ByteBuf encoded(Frame f) {
        return FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT, f);
    }

    private void send(Frame f) throws IOException {
        bus.send(f);
    }

    private void send(ByteBuf b) throws IOException {
        bus.send(b);
    }

    /**
     * Ends with a frame cut mid-header (three bytes of a length field), then closes: the simulator counts it as
     * truncated when the connection ends.
     */
    @Override
    public void close() {
        try {
            bus.close(Unpooled.buffer().writeByte(24).writeByte(0).writeByte(0));
        } finally {
            tx.close();
        }
    }
}
