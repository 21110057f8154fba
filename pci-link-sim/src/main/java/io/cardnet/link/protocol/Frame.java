package io.cardnet.link.protocol;

/**
 * One frame on the bus. Every frame is a descriptor-sized unit, little-endian like PCIe descriptors:
 *
 * <pre>
 *  u32 length      bytes that follow this field
 *  u8  type        {@link FrameType}
 *  u8  flags       reserved, 0
 *  u16 reserved    0
 *  ... body        per type
 * </pre>
 *
 * Control frames (training, link state, heartbeats) are small records; {@link Data} keeps its wire bytes
 * so that the simulator forwards a packet without re-encoding and a TUN reads or writes it in place.
 */
public sealed interface Frame permits Train, LinkUp, LinkDown, TrainReject, Heartbeat, Doorbell, Interrupt, RxDone, Desc, Data {

    /** Bytes of the common header including the length field. */
    int HEADER = 8;

    FrameType type();
}
