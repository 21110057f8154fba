package io.cardnet.netdev;

import java.nio.ByteBuffer;

/** Hand-built IPv4/UDP/TCP packets and a deliberately naive checksum to check the fast one against. */
final class Packets {
    static final int TCP = 6;
    static final int UDP = 17;

    private Packets() {
    }

    /** Dotted quad to a big-endian int. */
    static int addr(String dotted) {
        String[] p = dotted.split("\\.");
        return Integer.parseInt(p[0]) << 24 | Integer.parseInt(p[1]) << 16 | Integer.parseInt(p[2]) << 8
                | Integer.parseInt(p[3]);
    }

    /** The reference: RFC 1071 word by word, exactly as written in the RFC, no cleverness. */
    static int refSum(byte[] data, int offset, int length, int initial) {
        long sum = Integer.toUnsignedLong(initial);
        int i = 0;
        for (; i + 1 < length; i += 2) {
            sum += (data[offset + i] & 0xFF) << 8 | (data[offset + i + 1] & 0xFF);
        }
        if (i < length) {
            sum += (data[offset + i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) sum;
    }

    /** 20-byte IPv4 header (DF, TTL 64, correct header checksum) followed by {@code l4}. */
    static byte[] ipv4(int src, int dst, int protocol, byte[] l4) {
        byte[] p = new byte[20 + l4.length];
        p[0] = 0x45;
        put16(p, 2, p.length);
        put16(p, 4, 0x1234);
        put16(p, 6, 0x4000);
        p[8] = 64;
        p[9] = (byte) protocol;
        put32(p, 12, src);
        put32(p, 16, dst);
        put16(p, 10, ~refSum(p, 0, 20, 0) & 0xFFFF);
        System.arraycopy(l4, 0, p, 20, l4.length);
        return p;
    }

    /** UDP header + payload with checksum field 0. */
    static byte[] udp(int srcPort, int dstPort, byte[] payload) {
        byte[] u = new byte[8 + payload.length];
        put16(u, 0, srcPort);
        put16(u, 2, dstPort);
        put16(u, 4, u.length);
        System.arraycopy(payload, 0, u, 8, payload.length);
        return u;
    }

    /** 20-byte TCP header (ACK|PSH) + payload with checksum field 0. */
    static byte[] tcp(int srcPort, int dstPort, int seq, int ack, byte[] payload) {
        byte[] t = new byte[20 + payload.length];
        put16(t, 0, srcPort);
        put16(t, 2, dstPort);
        put32(t, 4, seq);
        put32(t, 8, ack);
        t[12] = 0x50;
        t[13] = 0x18;
        put16(t, 14, 65535);
        System.arraycopy(payload, 0, t, 20, payload.length);
        return t;
    }

    static int checksumOffset(int protocol) {
        return protocol == TCP ? 16 : 6;
    }

    /** Pseudo-header sum of an IPv4 packet with a 20-byte header, computed the naive way. */
    static int refPseudo(byte[] ip) {
        int l4Length = ip.length - 20;
        byte[] pseudo = new byte[12];
        System.arraycopy(ip, 12, pseudo, 0, 8);
        pseudo[9] = ip[9];
        put16(pseudo, 10, l4Length);
        return refSum(pseudo, 0, 12, 0);
    }

    /** Stores the correct L4 checksum (computed naively) into a packet from {@link #ipv4}. */
    static void fillL4Checksum(byte[] ip) {
        int field = 20 + checksumOffset(ip[9]);
        put16(ip, field, 0);
        int value = ~refSum(ip, 20, ip.length - 20, refPseudo(ip)) & 0xFFFF;
        if (value == 0 && ip[9] == UDP) {
            value = 0xFFFF;
        }
        put16(ip, field, value);
    }

    static int get16(byte[] b, int i) {
        return (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
    }

    static int get16(ByteBuffer b, int i) {
        return (b.get(i) & 0xFF) << 8 | (b.get(i + 1) & 0xFF);
    }

    static int get32(ByteBuffer b, int i) {
        return get16(b, i) << 16 | get16(b, i + 2);
    }

    static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }

    static void put32(byte[] b, int i, int v) {
        put16(b, i, v >>> 16);
        put16(b, i + 2, v);
    }
}
