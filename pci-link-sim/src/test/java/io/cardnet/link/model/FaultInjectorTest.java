package io.cardnet.link.model;

import io.cardnet.link.protocol.TestPackets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seeded faults: how often each fires, that a seed repeats them, and what they do to a packet's bytes. */
class FaultInjectorTest {
    private static final int N = 20_000;
    /** Where the packet starts in the test buffers: anywhere, as in a DATA frame (offset 26) or a DMA slot. */
    private static final int AT = 26;

    private static FaultSettings all(double p) {
        FaultSettings s = FaultSettings.NONE;
        for (FaultKind k : FaultKind.values()) {
            if (k.probabilistic()) {
                s = s.with(k, p);
            }
        }
        return s;
    }

    private static ByteBuf packetAt(byte[] packet) {
        ByteBuf b = Unpooled.buffer(AT + packet.length);
        b.writeZero(AT).writeBytes(packet);
        return b;
    }

    /** Runs N descriptors through every decision the DMA engine asks, counting what fired. */
    private static Map<FaultKind, Integer> counts(FaultInjector faults) {
        byte[] packet = TestPackets.udp(new byte[512]);
        ByteBuf buf = packetAt(packet);
        Map<FaultKind, Integer> fired = new EnumMap<>(FaultKind.class);
        for (int i = 0; i < N; i++) {
            if (faults.loseDoorbell()) {
                fired.merge(FaultKind.LOST_DOORBELL, 1, Integer::sum);
            }
            if (faults.bitflip(buf, AT, packet.length) != FaultInjector.Bitflip.NONE) {
                fired.merge(FaultKind.BITFLIP, 1, Integer::sum);
            }
            if (faults.drop()) {
                fired.merge(FaultKind.DROP, 1, Integer::sum);
            }
            if (faults.reorder()) {
                fired.merge(FaultKind.REORDER, 1, Integer::sum);
            }
            if (faults.poison(buf, AT, packet.length)) {
                fired.merge(FaultKind.POISON, 1, Integer::sum);
                buf.setBytes(AT, packet);
            }
        }
        assertArrayEquals(packet, ByteBufUtil.getBytes(buf, AT, packet.length), "a bit flip never stays in the packet");
        buf.release();
        return fired;
    }

    @Test
    void eachFaultFiresWithItsProbability() {
        double p = 0.02;
        double sigma = Math.sqrt(N * p * (1 - p));
        Map<FaultKind, Integer> fired = counts(new FaultInjector(all(p), 11));
        for (FaultKind k : FaultKind.values()) {
            if (k.probabilistic()) {
                int n = fired.getOrDefault(k, 0);
                assertTrue(Math.abs(n - N * p) < 5 * sigma, k + " fired " + n + " times in " + N + ", expected about " + N * p);
            }
        }
    }

    @Test
    void aSeedRepeatsTheSameFaults() {
        assertEquals(counts(new FaultInjector(all(0.05), 42)), counts(new FaultInjector(all(0.05), 42)));
        assertNotEquals(counts(new FaultInjector(all(0.05), 42)), counts(new FaultInjector(all(0.05), 43)));
    }

    @Test
    void nothingFiresWhenOffAndEverythingAtProbabilityOne() {
        assertEquals(Map.of(), counts(new FaultInjector(FaultSettings.NONE, 1)));
        Map<FaultKind, Integer> always = counts(new FaultInjector(all(1.0), 1));
        for (FaultKind k : FaultKind.values()) {
            assertEquals(k.probabilistic() ? N : 0, always.getOrDefault(k, 0), k.cliName());
        }
    }

    @Test
    void aFlippedBitIsCaughtByTheCrcAndReplayedAndTheConsumerGetsTheOriginal() {
        FaultInjector faults = new FaultInjector(FaultSettings.NONE.with(FaultKind.BITFLIP, 1.0), 7);
        byte[] packet = TestPackets.tcp(new byte[1400]);
        ByteBuf buf = packetAt(packet);
        WireClock wire = new WireClock(LinkProfile.parse("gen1x1"));
        for (int i = 0; i < 1000; i++) {
            FaultInjector.Bitflip flip = faults.bitflip(buf, AT, packet.length);
            assertEquals(FaultInjector.Bitflip.REPLAYED, flip, "a single-bit flip is always caught by CRC-32C");
            WireClock.Transfer t = wire.send(0, packet.length, flip.transmissions());
            assertEquals(2 * wire.model().wireBytes(packet.length), t.wireBytes(), "the wire carried it twice");
        }
        assertArrayEquals(packet, ByteBufUtil.getBytes(buf, AT, packet.length));
        buf.release();
    }

    @Test
    void poisonFlipsOnePayloadByteAndSparesTheHeaders() {
        FaultInjector faults = new FaultInjector(FaultSettings.NONE.with(FaultKind.POISON, 1.0), 3);
        for (byte[] packet : new byte[][]{TestPackets.udp(new byte[100]), TestPackets.tcp(new byte[100])}) {
            int headers = 20 + (packet[9] == 6 ? 20 : 8);
            for (int i = 0; i < 200; i++) {
                ByteBuf buf = packetAt(packet);
                assertTrue(faults.poison(buf, AT, packet.length));
                byte[] after = ByteBufUtil.getBytes(buf, AT, packet.length);
                int differ = 0;
                for (int j = 0; j < packet.length; j++) {
                    if (after[j] != packet[j]) {
                        differ++;
                        assertTrue(j >= headers, "byte " + j + " is inside the headers");
                    }
                }
                assertEquals(1, differ);
                buf.release();
            }
        }
        ByteBuf empty = packetAt(TestPackets.tcp(new byte[0]));
        assertFalse(faults.poison(empty, AT, 40), "no payload, nothing to poison");
        empty.release();
    }
}
