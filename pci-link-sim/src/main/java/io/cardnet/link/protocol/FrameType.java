package io.cardnet.link.protocol;

/** The frame kinds on the wire, with their type byte. */
public enum FrameType {
    /** side → simulator: "train me": protocol version, role, max packet, features. */
    TRAIN(0x01),
    /** simulator → side: both ends trained; negotiated parameters. */
    LINK_UP(0x02),
    /** simulator → side: the link is down (peer gone, silent, or not trained yet), with the reason. */
    LINK_DOWN(0x03),
    /** simulator → side: training refused (wrong version, wrong port, port taken). The connection closes. */
    TRAIN_REJECT(0x04),
    /** either way, when otherwise idle: proves the sender is alive. */
    HEARTBEAT(0x05),
    /** end → simulator: descriptors up to a sequence are posted. */
    DOORBELL(0x06),
    /** simulator → end: received descriptors to process, and completed ones (credits) returned. */
    INTERRUPT(0x07),
    /** consumer → simulator: received descriptors processed up to a sequence; their buffers are free. */
    RX_DONE(0x08),
    /** a descriptor whose packet sits in a shared-memory DMA slot. */
    DESC(0x11),
    /** a descriptor: one IP packet and its metadata. */
    DATA(0x10);

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type for a wire byte, or null if the byte names no known type. */
    public static FrameType of(int code) {
        for (FrameType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }
}
