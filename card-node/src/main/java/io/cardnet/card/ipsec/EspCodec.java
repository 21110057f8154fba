package io.cardnet.card.ipsec;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * ESP (RFC 4303) in tunnel mode with AES-GCM (RFC 4106) for one direction's SA: seals an inner IPv4 packet into an
 * ESP payload and opens one, checking the ICV and the anti-replay window. One instance per thread: a
 * {@link Cipher} is not thread-safe.
 *
 * <pre>
 *  SPI (4) │ sequence (4) │ IV (8) │ ciphertext: inner packet, padding, pad length, next header 4 │ ICV (16)
 *  nonce = salt (last 4 key bytes) ‖ IV;   AAD = SPI ‖ sequence;   IV = the 64-bit sequence (never repeats)
 * </pre>
 */
public final class EspCodec {
    /** ESP header, IV, pad length + next header, at most 3 bytes of padding and the ICV: what ESP adds at most. */
    public static final int OVERHEAD = 8 + 8 + 2 + 3 + 16;
    private static final int NEXT_HEADER_IPV4 = 4;
    private static final int WINDOW = 64;

    /** Why an ESP payload was refused; each is counted. */
    public enum Refusal { MALFORMED, UNKNOWN_SPI, REPLAYED, AUTHENTICATION }

    /** Thrown for a payload that must be dropped. */
    public static final class Refused extends Exception {
        private final Refusal reason;

        Refused(Refusal reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public Refusal reason() {
            return reason;
        }
    }

    private final TunnelKeys.Sa sa;
    private final int icvBytes;
    private final SecretKeySpec key;
    private final byte[] salt;
    private final Cipher cipher;
    private long sequence;      // last sent
    private long highest;       // highest received and authenticated
    private long window;        // bit i: highest - i was received

    public EspCodec(TunnelKeys.Sa sa, EspProposal esp) {
        this.sa = sa;
        this.icvBytes = esp.icvBits() / 8;
        byte[] k = sa.key();
        this.key = new SecretKeySpec(k, 0, k.length - 4, "AES");
        this.salt = Arrays.copyOfRange(k, k.length - 4, k.length);
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no AES/GCM", e);
        }
    }

    /** Seals the inner packet ({@code inner}'s remaining bytes) into {@code out} (from its position). */
    public void seal(ByteBuffer inner, ByteBuffer out) throws GeneralSecurityException {
        sequence++;
        if (sequence > 0xffff_ffffL) {
            throw new GeneralSecurityException("the SA's 32-bit sequence is used up: the card must reboot to rekey");
        }
        int start = out.position();
        out.putInt(sa.spi()).putInt((int) sequence).putLong(sequence);
        int len = inner.remaining();
        int pad = (4 - (len + 2) % 4) % 4;
        ByteBuffer trailer = ByteBuffer.allocate(pad + 2);
        for (int i = 1; i <= pad; i++) {
            trailer.put((byte) i);   // RFC 4303's monotonic padding
        }
        trailer.put((byte) pad).put((byte) NEXT_HEADER_IPV4).flip();
        cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(icvBytes * 8, nonce(sequence)));
        cipher.updateAAD(out.duplicate().position(start).limit(start + 8));
        cipher.update(inner, out);
        cipher.doFinal(trailer, out);
    }

    /**
     * Opens an ESP payload ({@code esp}'s remaining bytes) into {@code out}: afterwards {@code out} holds the inner
     * packet from its position to its position plus the returned length.
     */
    public int open(ByteBuffer esp, ByteBuffer out) throws Refused {
        if (esp.remaining() < 16 + icvBytes + 2) {
            throw new Refused(Refusal.MALFORMED, "an ESP packet of " + esp.remaining() + " bytes is too short");
        }
        int start = esp.position();
        int spi = esp.getInt(start);
        if (spi != sa.spi()) {
            throw new Refused(Refusal.UNKNOWN_SPI, String.format("SPI 0x%08x is not this tunnel's", spi));
        }
        long seq = Integer.toUnsignedLong(esp.getInt(start + 4));
        if (seq == 0 || (seq <= highest && (highest - seq >= WINDOW || (window & (1L << (highest - seq))) != 0))) {
            throw new Refused(Refusal.REPLAYED, "sequence " + seq + " was seen or is too old (highest " + highest + ")");
        }
        int outStart = out.position();
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(icvBytes * 8, nonce(esp.getLong(start + 8))));
            cipher.updateAAD(esp.duplicate().limit(start + 8));
            cipher.doFinal(esp.position(start + 16), out);
        } catch (AEADBadTagException e) {
            throw new Refused(Refusal.AUTHENTICATION, "the ICV does not match: wrong key or altered bytes");
        } catch (GeneralSecurityException e) {
            throw new Refused(Refusal.MALFORMED, "cannot decrypt: " + e.getMessage());
        }
        int plain = out.position() - outStart;
        int next = out.get(outStart + plain - 1) & 0xff;
        int pad = out.get(outStart + plain - 2) & 0xff;
        if (next != NEXT_HEADER_IPV4 || pad + 2 > plain) {
            throw new Refused(Refusal.MALFORMED, "next header " + next + ", pad length " + pad + ": not an IPv4 tunnel packet");
        }
        accept(seq);
        out.position(outStart);
        return plain - pad - 2;
    }

    private void accept(long seq) {
        if (seq > highest) {
            long shift = seq - highest;
            window = shift >= WINDOW ? 1 : (window << shift) | 1;
            highest = seq;
        } else {
            window |= 1L << (highest - seq);
        }
    }

    private byte[] nonce(long iv) {
        return ByteBuffer.allocate(12).put(salt).putLong(iv).array();
    }
}
