package io.cardnet.link.protocol;

/**
 * A descriptor whose packet is in shared DMA memory instead of in the frame: slot {@code slot} of the
 * direction's region holds a DATA frame's bytes (header, virtio header, packet) of {@code length} bytes.
 * Sent by a producer that posts into its region, and by the simulator when it delivers from it.
 * Body {@code u64 sequence, u32 slot, u32 length}; the header's reserved u16 carries the link epoch, as in DATA.
 */
public record Desc(long sequence, int slot, int length, int epoch) implements Frame {
    public static final int BODY = 16;

    @Override
    public FrameType type() {
        return FrameType.DESC;
    }
}
