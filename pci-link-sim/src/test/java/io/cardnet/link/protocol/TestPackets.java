package io.cardnet.link.protocol;

import java.nio.ByteBuffer;

/** Hand-built IP packets for codec and policy tests. */
public final class TestPackets {
    private TestPackets() {
    }

    /** An IPv4 packet: 20-byte header (checksum 0; the bus never looks at it) + the given L4 bytes. */
    public static byte[] ipv4(int protocol, byte[] l4, int src, int dst) {
        ByteBuffer b = ByteBuffer.allocate(20 + l4.length);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length));
        b.putShort((short) 1).putShort((short) 0x4000).put((byte) 64).put((byte) protocol).putShort((short) 0);
        b.putInt(src).putInt(dst).put(l4);
        return b.array();
    }

    /** An IPv4/UDP packet from 198.18.0.2:9999 to 198.18.0.1:5000 with the payload, UDP checksum 0. */
    public static byte[] udp(byte[] payload) {
        ByteBuffer u = ByteBuffer.allocate(8 + payload.length);
        u.putShort((short) 9999).putShort((short) 5000).putShort((short) (8 + payload.length)).putShort((short) 0);
        u.put(payload);
        return ipv4(17, u.array(), 0xC6120002, 0xC6120001);
    }

    /** An IPv4/TCP packet (20-byte TCP header, checksum field 0) with the payload. */
    public static byte[] tcp(byte[] payload) {
        ByteBuffer t = ByteBuffer.allocate(20 + payload.length);
        t.putShort((short) 40000).putShort((short) 9).putInt(1).putInt(0);
        t.put((byte) 0x50).put((byte) 0x18).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        t.put(payload);
        return ipv4(6, t.array(), 0xC6120001, 0xC6120002);
    }
}
