package io.cardnet.link.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes {@link Frame}s. DATA frames are already wire bytes and pass through without a copy. */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        if (frame instanceof Data data) {
            out.add(data.content().retain());
            return;
        }
        out.add(encodeControl(ctx.alloc(), frame));
    }

    /** Encodes a control frame into a fresh buffer. */
    public static ByteBuf encodeControl(io.netty.buffer.ByteBufAllocator alloc, Frame frame) {
        ByteBuf buf = alloc.buffer();
        buf.writeIntLE(0);
        buf.writeByte(frame.type().code());
        buf.writeByte(0);
        buf.writeShortLE(0);
        switch (frame) {
            case Train t -> {
                buf.writeShortLE(t.version());
                buf.writeByte(t.role().code());
                buf.writeByte(t.queues());
                buf.writeIntLE(t.maxPacket());
                buf.writeLongLE(t.features());
            }
            case LinkUp u -> {
                buf.writeShortLE(u.version());
                buf.writeShortLE(u.queues());
                buf.writeIntLE(u.maxPacket());
                buf.writeLongLE(u.features());
                buf.writeLongLE(u.epoch());
                buf.writeIntLE(u.ringDepth());
                buf.writeIntLE(0);
            }
            case Doorbell d -> {
                buf.writeLongLE(d.tail());
                buf.writeLongLE(d.epoch());
            }
            case RxDone r -> {
                buf.writeLongLE(r.upTo());
                buf.writeLongLE(r.epoch());
            }
            case Desc d -> {
                buf.setShortLE(6, d.epoch());
                buf.writeLongLE(d.sequence());
                buf.writeIntLE(d.slot());
                buf.writeIntLE(d.length());
            }
            case Interrupt i -> {
                buf.writeLongLE(i.rxUpTo());
                buf.writeIntLE(i.credits());
                buf.writeIntLE(0);
            }
            case LinkDown d -> writeText(buf, d.reason());
            case TrainReject r -> writeText(buf, r.reason());
            case Heartbeat h -> buf.writeLongLE(h.senderNanos());
            case Data d -> throw new IllegalArgumentException("DATA frames are written as they are");
        }
        buf.setIntLE(0, buf.readableBytes() - 4);
        return buf;
    }

    private static void writeText(ByteBuf buf, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        buf.writeBytes(bytes, 0, Math.min(bytes.length, FrameDecoder.MAX_TEXT));
    }
}
