package io.cardnet.link.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. Malformed input never throws and never closes the
 * channel: it becomes a {@link FrameFault} message, and the decoder resynchronises where it can —
 * a well-delimited bad frame is skipped whole, an oversize frame's bytes are discarded as they arrive.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** Longest reason text accepted in LINK_DOWN or TRAIN_REJECT. */
    static final int MAX_TEXT = 4096;

    private long discarding;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            if (discarding > 0) {
                int skip = (int) Math.min(discarding, in.readableBytes());
                in.skipBytes(skip);
                discarding -= skip;
                continue;
            }
            if (in.readableBytes() < 4) {
                return;
            }
            long length = in.getUnsignedIntLE(in.readerIndex());
            if (length > Data.MAX_LENGTH) {
                out.add(new FrameFault(FrameFault.Kind.OVERSIZE, "frame of " + length
                        + " bytes exceeds the " + Data.MAX_LENGTH + "-byte maximum (a 65535-byte packet); skipped"));
                in.skipBytes(4);
                discarding = length;
                continue;
            }
            if (length < Frame.HEADER - 4) {
                out.add(new FrameFault(FrameFault.Kind.BAD_LENGTH, "length field " + length
                        + " is shorter than the 4-byte type header; skipped"));
                in.skipBytes(4);
                discarding = length;
                continue;
            }
            if (in.readableBytes() < 4 + length) {
                return;
            }
            ByteBuf frame = in.readRetainedSlice((int) (4 + length));
            Object decoded;
            try {
                decoded = parse(frame);
            } catch (RuntimeException e) {
                decoded = new FrameFault(FrameFault.Kind.BAD_LENGTH, "unparseable frame: " + e.getMessage());
            }
            if (!(decoded instanceof Data)) {
                frame.release();
            }
            out.add(decoded);
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        if (discarding > 0) {
            out.add(new FrameFault(FrameFault.Kind.TRUNCATED, "connection closed " + discarding
                    + " bytes short of the end of a skipped frame"));
            discarding = 0;
        } else if (in.isReadable()) {
            int have = in.readableBytes();
            String expected = have >= 4 ? " of a " + (4 + in.getUnsignedIntLE(in.readerIndex())) + "-byte frame" : "";
            out.add(new FrameFault(FrameFault.Kind.TRUNCATED, "connection closed after " + have + " bytes" + expected));
            in.skipBytes(have);
        }
    }

    /** Parses one whole frame (length field included); returns a Frame or a FrameFault. */
    static Object parse(ByteBuf f) {
        int length = f.readableBytes() - 4;
        int typeCode = f.getUnsignedByte(4);
        FrameType type = FrameType.of(typeCode);
        if (type == null) {
            return new FrameFault(FrameFault.Kind.UNKNOWN_TYPE,
                    String.format("type 0x%02x is not a frame type; %d bytes skipped", typeCode, length + 4));
        }
        int body = length - 4;
        int b = Frame.HEADER;
        return switch (type) {
            case TRAIN -> body != Train.BODY ? badBody(type, body, Train.BODY)
                    : trainOrFault(f, b);
            case LINK_UP -> body != LinkUp.BODY ? badBody(type, body, LinkUp.BODY)
                    : new LinkUp(f.getUnsignedShortLE(b), f.getIntLE(b + 4), f.getLongLE(b + 8), f.getLongLE(b + 16),
                    f.getIntLE(b + 24), f.getUnsignedShortLE(b + 2));
            case DOORBELL -> body != Doorbell.BODY ? badBody(type, body, Doorbell.BODY) : new Doorbell(f.getLongLE(b), f.getLongLE(b + 8));
            case INTERRUPT -> body != Interrupt.BODY ? badBody(type, body, Interrupt.BODY)
                    : new Interrupt(f.getLongLE(b), f.getIntLE(b + 8));
            case HEARTBEAT -> body != Heartbeat.BODY ? badBody(type, body, Heartbeat.BODY)
                    : new Heartbeat(f.getLongLE(b));
            case LINK_DOWN -> body > MAX_TEXT ? badBody(type, body, MAX_TEXT)
                    : new LinkDown(f.toString(b, body, StandardCharsets.UTF_8));
            case TRAIN_REJECT -> body > MAX_TEXT ? badBody(type, body, MAX_TEXT)
                    : new TrainReject(f.toString(b, body, StandardCharsets.UTF_8));
            case RX_DONE -> body != RxDone.BODY ? badBody(type, body, RxDone.BODY) : new RxDone(f.getLongLE(b), f.getLongLE(b + 8));
            case DESC -> body != Desc.BODY ? badBody(type, body, Desc.BODY)
                    : new Desc(f.getLongLE(b), f.getIntLE(b + 8), f.getIntLE(b + 12), f.getUnsignedShortLE(6));
            case DATA -> switch (data(f)) {
                case Decoded.Ok<Data>(Data d) -> d;
                case Decoded.Refused<Data>(FrameFault fault) -> fault;
            };
        };
    }

    private static Object trainOrFault(ByteBuf f, int b) {
        Role role = Role.of(f.getUnsignedByte(b + 2));
        if (role == null) {
            return new FrameFault(FrameFault.Kind.BAD_LENGTH, "TRAIN names role " + f.getUnsignedByte(b + 2)
                    + "; roles are 1 (root complex) and 2 (endpoint)");
        }
        return new Train(f.getUnsignedShortLE(b), role, f.getIntLE(b + 4), f.getLongLE(b + 8), f.getUnsignedByte(b + 3));
    }

    private static FrameFault badBody(FrameType type, int body, int expected) {
        return new FrameFault(FrameFault.Kind.BAD_LENGTH,
                type + " frame with a " + body + "-byte body; expected " + (type == FrameType.LINK_DOWN
                        || type == FrameType.TRAIN_REJECT ? "at most " : "") + expected);
    }

    /** Checks a DATA frame's bytes (from a socket or a DMA slot): the Data, or the FrameFault that names the problem. */
    public static Decoded<Data> data(ByteBuf f) {
        int packet = f.readableBytes() - Data.PACKET_OFFSET;
        if (packet < Data.MIN_PACKET) {
            return Decoded.refused(FrameFault.Kind.BAD_LENGTH, "DATA frame carries " + Math.max(packet, 0)
                    + " packet bytes; an IP packet has at least " + Data.MIN_PACKET);
        }
        int p = Data.PACKET_OFFSET;
        int version = f.getUnsignedByte(p) >> 4;
        int ipLength;
        if (version == 4) {
            ipLength = f.getUnsignedShort(p + 2);
        } else if (version == 6) {
            ipLength = packet >= 40 ? 40 + f.getUnsignedShort(p + 4) : -1;
        } else {
            return Decoded.refused(FrameFault.Kind.NOT_IP, "DATA frame's packet has IP version " + version
                    + "; only IPv4 and IPv6 cross the bus");
        }
        if (ipLength != packet) {
            return Decoded.refused(FrameFault.Kind.BAD_LENGTH, "IPv" + version + " header says " + ipLength
                    + " bytes but the descriptor carries " + packet);
        }
        return Decoded.ok(new Data(f));
    }
}
