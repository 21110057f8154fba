package io.cardnet.card.services;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * What a sender may say before its payload: which {@link IntegrityCheck} the sink should run. One ASCII line,
 * {@code CARDNET-SINK verify=sha256\n}, not counted as payload. A stream that does not open with it (plain
 * {@code nc}, a file piped in) is all payload and checked with the sink's default (CRC32C unless the sink was told
 * otherwise), so the sink stays usable without cardnet:
 * <pre>  { printf 'CARDNET-SINK verify=sha256\n'; cat file; } | nc -N 198.18.0.2 9</pre>
 * A random payload opens with these 20 bytes with odds of 2^-160.
 */
public final class SinkRequest {
    static final String PREFIX = "CARDNET-SINK verify=";
    private static final byte[] PREFIX_BYTES = PREFIX.getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_LINE = 64;

    private SinkRequest() {
    }

    /** The line a sender writes first to ask for {@code check}. */
    public static ByteBuffer line(IntegrityCheck check) {
        return ByteBuffer.wrap((PREFIX + check.id() + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    /** The sender's side: writes the line asking for {@code check} to {@code ch}, before any payload. */
    public static void write(WritableByteChannel ch, IntegrityCheck check) throws IOException {
        ByteBuffer request = line(check);
        while (request.hasRemaining()) {
            ch.write(request);
        }
    }

    /**
     * The sink's side: reads the opening of a transfer into {@code buf} (empty, in write mode) and returns the
     * check asked for, {@code unasked} when there is no request. On return {@code buf} holds only payload bytes already
     * read (the request line removed), still in write mode, so the caller goes on reading into it.
     *
     * @throws IOException if the line names no check this sink knows, or never ends
     */
    public static IntegrityCheck read(ReadableByteChannel c, ByteBuffer buf, IntegrityCheck unasked) throws IOException {
        while (opensWithPrefix(buf) && buf.position() < PREFIX_BYTES.length) {
            if (c.read(buf) < 0) {
                return unasked; // a short stream that happens to open like a request: payload
            }
        }
        if (!opensWithPrefix(buf)) {
            return unasked;
        }
        int end;
        while ((end = newline(buf)) < 0) {
            if (buf.position() >= MAX_LINE || c.read(buf) < 0) {
                throw new IOException("the sender's request line has no end within " + MAX_LINE + " bytes");
            }
        }
        byte[] name = new byte[end - PREFIX_BYTES.length];
        buf.get(PREFIX_BYTES.length, name);
        IntegrityCheck check;
        try {
            check = IntegrityCheck.parse(new String(name, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new IOException("the sender asked for an unknown check: " + e.getMessage(), e);
        }
        buf.flip().position(end + 1);
        buf.compact();
        return check;
    }

    private static boolean opensWithPrefix(ByteBuffer buf) {
        int n = Math.min(buf.position(), PREFIX_BYTES.length);
        for (int i = 0; i < n; i++) {
            if (buf.get(i) != PREFIX_BYTES[i]) {
                return false;
            }
        }
        return true;
    }

    private static int newline(ByteBuffer buf) {
        for (int i = PREFIX_BYTES.length; i < Math.min(buf.position(), MAX_LINE); i++) {
            if (buf.get(i) == '\n') {
                return i;
            }
        }
        return -1;
    }
}
