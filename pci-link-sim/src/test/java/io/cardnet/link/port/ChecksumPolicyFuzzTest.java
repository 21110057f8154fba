package io.cardnet.link.port;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Decoded;
import io.cardnet.link.protocol.FrameFault;
import io.cardnet.netdev.VnetHeader;
import io.netty.buffer.UnpooledByteBufAllocator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both checksum policies on any packet with any virtio header (flags, GSO type and size, csum_start and
 * csum_offset), outbound and from the bus: a packet from the bus is deliverable or refused with a reason, nothing
 * throws, no buffer leaks, and what is delivered partial names a checksum field inside the packet (else the
 * TUN write would fail).
 * Fuzzed with tools/fuzz (docs/security.md).
 */
class ChecksumPolicyFuzzTest {

    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void anyVnetHeaderOnAnyPacketIsDeliveredOrRefused(FuzzedDataProvider in) {
        VnetHeader vnet = new VnetHeader(in.consumeInt(0, 0xff), in.consumeInt(0, 0xff), in.consumeInt(0, 0xffff),
                in.consumeInt(0, 0xffff), in.consumeInt(0, 0xffff), in.consumeInt(0, 0xffff));
        ChecksumPolicy policy = in.consumeBoolean() ? ChecksumPolicy.Unnecessary.INSTANCE : ChecksumPolicy.Verify.INSTANCE;
        boolean fromBus = in.consumeBoolean();
        byte[] packet = in.consumeRemainingAsBytes();
        if (packet.length < Data.MIN_PACKET) {
            return; // the frame decoder refuses these before a policy sees them
        }
        Data d = Data.of(UnpooledByteBufAllocator.DEFAULT, 1, vnet, packet);
        try {
            if (!fromBus) {
                policy.outbound(d);
                assertEquals(packet.length, d.packetLength());
                return;
            }
            switch (policy.deliverable(d)) {
                case Decoded.Ok<Data>(Data ok) -> {
                    assertEquals(packet.length, ok.packetLength());
                    if (policy == ChecksumPolicy.Verify.INSTANCE) {
                        assertEquals(0, ok.vnetFlags(), "verify delivers complete packets, flags 0");
                    }
                    if ((ok.vnetFlags() & VnetHeader.FLAG_NEEDS_CSUM) != 0) {
                        assertTrue(ok.csumStart() + ok.csumOffset() + 2 <= ok.packetLength(),
                                "delivered partial with a checksum field outside the packet: " + ok.vnet());
                    }
                }
                case Decoded.Refused<Data>(FrameFault fault) -> assertFalse(fault.detail().isBlank());
            }
        } finally {
            assertTrue(d.release(), "the policy kept a reference");
        }
    }
}
