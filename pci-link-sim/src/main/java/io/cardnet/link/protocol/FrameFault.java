package io.cardnet.link.protocol;

/**
 * A frame or descriptor refused: by the decoder, by the DMA engine's check of a descriptor's slot, or by an
 * end that cannot write it to its TUN. From the decoder it travels down the pipeline as a message so that
 * the port that received it can count it by {@link Kind} and log the detail, and the link keeps running;
 * elsewhere it is the reason of a {@link Decoded.Refused}.
 */
public record FrameFault(Kind kind, String detail) {

    public enum Kind {
        /** the length field disagrees with the frame's type or with the IP header inside it */
        BAD_LENGTH("bad_length"),
        /** the connection closed in the middle of a frame */
        TRUNCATED("truncated"),
        /** a type byte no frame kind has, or a kind this direction never carries */
        UNKNOWN_TYPE("unknown_type"),
        /** a frame longer than a 65535-byte packet allows; its bytes are skipped */
        OVERSIZE("oversize"),
        /** a DATA frame whose payload is not an IPv4 or IPv6 packet */
        NOT_IP("not_ip"),
        /** a DESC naming a DMA slot that is not its sequence's, or no shared memory was negotiated */
        BAD_SLOT("bad_slot"),
        /**
         * a GSO super-packet for an end whose TUN has no segmentation offload ({@code --csum verify}): the
         * link trained without the GSO feature, so its peer should have segmented it
         */
        GSO_WITHOUT_OFFLOAD("gso_without_offload"),
        /**
         * a partial checksum (virtio NEEDS_CSUM) whose csum_start + csum_offset names a field outside the packet:
         * it cannot be finished, and a TUN would refuse the write
         */
        BAD_CSUM_OFFSETS("bad_csum_offsets"),
        /**
         * an interrupt returning more credits than this end has descriptors outstanding: credits would let the end
         * post over slots the consumer may still be reading (a broken or hostile bus); the excess is ignored
         */
        EXCESS_CREDITS("excess_credits");

        private final String tag;

        Kind(String tag) {
            this.tag = tag;
        }

        /** The metric tag value. */
        public String tag() {
            return tag;
        }
    }

    @Override
    public String toString() {
        return kind + ": " + detail;
    }
}
