package io.cardnet.link.protocol;

import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire codec, driven through Netty's EmbeddedChannel: no sockets. */
class FrameDecoderTest {

    private static ByteBuf encode(Frame f) {
        EmbeddedChannel out = new EmbeddedChannel(FrameEncoder.INSTANCE);
        out.writeOutbound(f);
        ByteBuf b = out.readOutbound();
        out.finishAndReleaseAll();
        return b;
    }

    private static List<Object> decode(ByteBuf... chunks) {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder());
        for (ByteBuf c : chunks) {
            in.writeInbound(c);
        }
        in.finish();
        List<Object> got = new ArrayList<>();
        Object o;
        while ((o = in.readInbound()) != null) {
            got.add(o);
        }
        return got;
    }

    private static ByteBuf raw(int length, int type, byte[] body) {
        ByteBuf b = Unpooled.buffer();
        b.writeIntLE(length).writeByte(type).writeByte(0).writeShortLE(0).writeBytes(body);
        return b;
    }

    @Test
    void controlFramesRoundTrip() {
        List<Frame> frames = List.of(new Train(1, Role.ENDPOINT, 65535, Features.CSUM_UNNECESSARY | Features.GSO),
                new LinkUp(1, 65535, Features.CSUM_UNNECESSARY, 7, 256),
                new Doorbell(41, 7), new Interrupt(40, 12), new LinkDown("card went away: missed heartbeats"),
                new TrainReject("protocol version 9 is not supported"), new Heartbeat(123456789L));
        for (Frame f : frames) {
            assertEquals(List.of(f), decode(encode(f)), "round trip of " + f);
        }
    }

    @Test
    void dataFrameArrivingByteByByteDecodesWhole() {
        byte[] packet = TestPackets.udp("hello, card".getBytes());
        VnetHeader vnet = new VnetHeader(VnetHeader.FLAG_NEEDS_CSUM, 0, 0, 0, 20, 6);
        ByteBuf wire = encode(Data.of(ByteBufAllocator.DEFAULT, 42, vnet, packet));
        assertEquals(Data.PACKET_OFFSET + packet.length, wire.readableBytes());
        ByteBuf[] bytes = new ByteBuf[wire.readableBytes()];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = Unpooled.wrappedBuffer(new byte[]{wire.getByte(i)});
        }
        wire.release();
        List<Object> got = decode(bytes);
        assertEquals(1, got.size(), got.toString());
        Data d = assertInstanceOf(Data.class, got.getFirst());
        assertEquals(42, d.sequence());
        assertEquals(vnet, d.vnet());
        byte[] p = new byte[d.packetLength()];
        d.packet().getBytes(0, p);
        assertArrayEquals(packet, p);
        d.release();
    }

    @Test
    void unknownTypeIsDroppedAndTheNextFrameStillDecodes() {
        List<Object> got = decode(raw(4 + 3, 0x7f, new byte[]{1, 2, 3}), encode(new Heartbeat(5)));
        FrameFault f = assertInstanceOf(FrameFault.class, got.get(0));
        assertEquals(FrameFault.Kind.UNKNOWN_TYPE, f.kind());
        assertTrue(f.detail().contains("0x7f"), f.detail());
        assertEquals(new Heartbeat(5), got.get(1));
    }

    @Test
    void controlFrameWithTheWrongBodyLengthIsABadLength() {
        List<Object> got = decode(raw(4 + 3, FrameType.TRAIN.code(), new byte[3]), encode(new Heartbeat(1)));
        FrameFault f = assertInstanceOf(FrameFault.class, got.get(0));
        assertEquals(FrameFault.Kind.BAD_LENGTH, f.kind());
        assertTrue(f.detail().contains("TRAIN") && f.detail().contains("expected 16"), f.detail());
        assertEquals(new Heartbeat(1), got.get(1));
    }

    @Test
    void lengthFieldShorterThanTheHeaderIsABadLength() {
        ByteBuf b = Unpooled.buffer().writeIntLE(2).writeByte(0x10).writeByte(0);
        List<Object> got = decode(b, encode(new Heartbeat(2)));
        assertEquals(FrameFault.Kind.BAD_LENGTH, assertInstanceOf(FrameFault.class, got.get(0)).kind());
        assertEquals(new Heartbeat(2), got.get(1));
    }

    @Test
    void oversizeFrameIsSkippedWhateverItsChunkingAndTheStreamResynchronises() {
        int length = 70_000;
        ByteBuf head = Unpooled.buffer().writeIntLE(length);
        ByteBuf body1 = Unpooled.wrappedBuffer(new byte[30_000]);
        ByteBuf body2 = Unpooled.wrappedBuffer(new byte[length - 30_000]);
        List<Object> got = decode(head, body1, body2, encode(new Heartbeat(3)));
        FrameFault f = assertInstanceOf(FrameFault.class, got.get(0));
        assertEquals(FrameFault.Kind.OVERSIZE, f.kind());
        assertTrue(f.detail().contains("70000"), f.detail());
        assertEquals(List.of(new Heartbeat(3)), got.subList(1, got.size()));
    }

    @Test
    void ipHeaderLengthDisagreeingWithTheDescriptorIsABadLength() {
        byte[] packet = TestPackets.udp(new byte[100]);
        packet[3] = 50; // total length now says 50, the descriptor carries 128
        ByteBuf wire = encode(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), packet));
        FrameFault f = assertInstanceOf(FrameFault.class, decode(wire).getFirst());
        assertEquals(FrameFault.Kind.BAD_LENGTH, f.kind());
        assertTrue(f.detail().contains("says 50") && f.detail().contains("carries 128"), f.detail());
    }

    @Test
    void payloadThatIsNotIpIsRefused() {
        byte[] packet = TestPackets.udp(new byte[10]);
        packet[0] = 0x55;
        ByteBuf wire = encode(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), packet));
        assertEquals(FrameFault.Kind.NOT_IP, assertInstanceOf(FrameFault.class, decode(wire).getFirst()).kind());
    }

    @Test
    void theDataCheckAnswersWithTheDataOnItsOwnBytesOrTheRefusal() {
        // the check the simulator also runs on a DMA slot's bytes, without a pipeline
        ByteBuf good = Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), TestPackets.udp(new byte[10])).content();
        Decoded.Ok<?> ok = assertInstanceOf(Decoded.Ok.class, FrameDecoder.data(good));
        assertSame(good, ((Data) ok.value()).content(), "no copy: the Data holds the same bytes");
        byte[] notIp = TestPackets.udp(new byte[10]);
        notIp[0] = 0x55;
        ByteBuf bad = Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), notIp).content();
        Decoded.Refused<?> r = assertInstanceOf(Decoded.Refused.class, FrameDecoder.data(bad));
        assertEquals(FrameFault.Kind.NOT_IP, r.fault().kind());
        good.release();
        bad.release();
    }

    @Test
    void dataFrameTooShortForAnIpHeaderIsABadLength() {
        ByteBuf b = raw(4 + 8 + 10 + 5, FrameType.DATA.code(), new byte[8 + 10 + 5]);
        assertEquals(FrameFault.Kind.BAD_LENGTH, assertInstanceOf(FrameFault.class, decode(b).getFirst()).kind());
    }

    @Test
    void connectionClosingMidFrameIsATruncation() {
        ByteBuf wire = encode(Data.of(ByteBufAllocator.DEFAULT, 1, VnetHeader.none(), TestPackets.udp(new byte[500])));
        ByteBuf half = wire.retainedSlice(0, 300);
        wire.release();
        List<Object> got = decode(half);
        FrameFault f = assertInstanceOf(FrameFault.class, got.getFirst());
        assertEquals(FrameFault.Kind.TRUNCATED, f.kind());
        assertTrue(f.detail().contains("after 300 bytes"), f.detail());
    }

    @Test
    void cleanStreamEndsWithoutFaults() {
        EmbeddedChannel in = new EmbeddedChannel(new FrameDecoder());
        in.writeInbound(encode(new Heartbeat(9)));
        in.finish();
        assertEquals(new Heartbeat(9), in.readInbound());
        assertNull(in.readInbound());
    }
}
