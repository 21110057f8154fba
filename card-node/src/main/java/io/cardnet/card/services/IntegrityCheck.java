package io.cardnet.card.services;

import com.fasterxml.jackson.annotation.JsonValue;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * The check a sink runs over a transfer's bytes, and its sender over what it sent, so both ends can compare.
 *
 * <p>CRC32C is the default because it runs at link speed: the JVM computes it with the CPU's CRC32 instruction
 * (an intrinsic, tens of GB/s on one core), so a sink that checks every byte is never what limits a run.
 * It catches every burst error up to 32 bits and any changed byte, which is what a transfer's check is for; it
 * is not a defence against someone forging data. SHA-256 (a few GB/s with SHA-NI, far less without) stays
 * available for a cryptographic digest when that is the question.
 */
public enum IntegrityCheck {
    CRC32C("crc32c", 8),
    SHA256("sha256", 64);

    private final String id;
    private final int hexDigits;

    IntegrityCheck(String id, int hexDigits) {
        this.id = id;
        this.hexDigits = hexDigits;
    }

    /** The name on the command line and in reports: "crc32c" or "sha256". */
    @JsonValue
    public String id() {
        return id;
    }

    /** How many lowercase hex digits this check's value has. */
    public int hexDigits() {
        return hexDigits;
    }

    /** {@code crc32c} or {@code sha256} (any case). */
    public static IntegrityCheck parse(String s) {
        for (IntegrityCheck c : values()) {
            if (c.id.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return c;
            }
        }
        throw new IllegalArgumentException("--verify takes crc32c (fast, the default) or sha256, not '" + s + "'");
    }

    /** A new running check over a stream of bytes. */
    public Running start() {
        return switch (this) {
            case CRC32C -> new Crc();
            case SHA256 -> new Sha();
        };
    }

    /** This check over all of {@code bytes}. */
    public String of(byte[] bytes) {
        Running r = start();
        r.update(bytes, 0, bytes.length);
        return r.value();
    }

    /** A check in progress: feed it the stream in order, then read its value once. */
    public sealed interface Running permits Crc, Sha {
        /** Adds the bytes between the buffer's position and limit, and moves the position to the limit. */
        void update(ByteBuffer bytes);

        void update(byte[] bytes, int offset, int length);

        /** The value in lowercase hex, {@link IntegrityCheck#hexDigits()} long. */
        String value();
    }

    private static final class Crc implements Running {
        // A direct buffer goes to the intrinsic without a copy; a heap one through its array.
        private final CRC32C crc = new CRC32C();

        @Override
        public void update(ByteBuffer bytes) {
            crc.update(bytes);
        }

        @Override
        public void update(byte[] bytes, int offset, int length) {
            crc.update(bytes, offset, length);
        }

        @Override
        public String value() {
            return String.format("%08x", crc.getValue());
        }
    }

    private static final class Sha implements Running {
        private final MessageDigest sha = sha256();

        @Override
        public void update(ByteBuffer bytes) {
            sha.update(bytes);
        }

        @Override
        public void update(byte[] bytes, int offset, int length) {
            sha.update(bytes, offset, length);
        }

        @Override
        public String value() {
            return HexFormat.of().formatHex(sha.digest());
        }
    }

    /** A new SHA-256 digest (every JVM has one). */
    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }
}
