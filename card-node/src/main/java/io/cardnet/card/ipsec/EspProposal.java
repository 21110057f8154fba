package io.cardnet.card.ipsec;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The ESP algorithms a firmware may name, in strongSwan's proposal spelling, with what the kernel's xfrm calls them.
 * Only AEADs: one key does encryption and integrity, so there is no separate authentication key to get wrong.
 *
 * @param keyBytes what {@code ip xfrm state ... aead} takes: the AES key plus the 4-byte salt of RFC 4106
 */
public enum EspProposal {
    AES128GCM16("aes128gcm16", "rfc4106(gcm(aes))", 16 + 4, 128),
    AES256GCM16("aes256gcm16", "rfc4106(gcm(aes))", 32 + 4, 128);

    private final String id;
    private final String xfrmName;
    private final int keyBytes;
    private final int icvBits;

    EspProposal(String id, String xfrmName, int keyBytes, int icvBits) {
        this.id = id;
        this.xfrmName = xfrmName;
        this.keyBytes = keyBytes;
        this.icvBits = icvBits;
    }

    public String id() {
        return id;
    }

    /** The algorithm as {@code ip xfrm state add ... aead NAME KEY ICV-BITS} takes it. */
    public String xfrmName() {
        return xfrmName;
    }

    public int keyBytes() {
        return keyBytes;
    }

    public int icvBits() {
        return icvBits;
    }

    /** The proposal of this name, or null. */
    public static EspProposal byId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst().orElse(null);
    }

    public static String known() {
        return Arrays.stream(values()).map(EspProposal::id).collect(Collectors.joining(", "));
    }
}
