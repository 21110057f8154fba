package io.cardnet.card.ipsec;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;

/**
 * One card's ESP tunnel as both ends install it: the outer addresses (the card's eth0 and the wire peer), the
 * inner prefixes it protects (the host's link and the wire), and one SA per direction (SPI and key). The lab makes
 * it with fresh random keys each time the card boots a firmware with {@code ipsec:} and writes it 0600 into the
 * lab's run directory; card-node reads it ({@code --ipsec-keys FILE}), the lab installs the peer's end from it.
 *
 * @param cardOuter  the card's wire address, one tunnel end
 * @param peerOuter  the wire peer's address, the other end
 * @param cardPrefix what lies behind the card (the host's link, 198.18.0.0/30)
 * @param peerPrefix what lies behind the peer (the wire, 198.19.0.0/24)
 */
public record TunnelKeys(EspProposal esp, String cardOuter, String peerOuter, String cardPrefix, String peerPrefix,
                         Sa toPeer, Sa toCard) {
    /** One direction's security association: its SPI and its key (AES key and RFC 4106 salt). */
    public record Sa(int spi, byte[] key) {
        public Sa {
            key = key.clone();
        }

        @Override
        public byte[] key() {
            return key.clone();
        }

        /** The SPI as ip xfrm writes it. */
        public String spiHex() {
            return String.format("0x%08x", spi);
        }

        String keyHex() {
            return "0x" + HexFormat.of().formatHex(key);
        }

        @Override
        public String toString() {
            return "Sa[spi=" + spiHex() + ", key=(" + key.length + " bytes)]"; // never the key itself
        }
    }

    /** Fresh SAs: random SPIs (never below 256, which RFC 4303 reserves) and random keys of {@code esp}'s size. */
    public static TunnelKeys generate(EspProposal esp, String cardOuter, String peerOuter, String cardPrefix,
                                      String peerPrefix, SecureRandom random) {
        return new TunnelKeys(esp, cardOuter, peerOuter, cardPrefix, peerPrefix, sa(esp, random), sa(esp, random));
    }

    private static Sa sa(EspProposal esp, SecureRandom random) {
        byte[] key = new byte[esp.keyBytes()];
        random.nextBytes(key);
        return new Sa(0x100 + random.nextInt(0x7fff_0000), key);
    }

    /** Writes the file readable by its owner only (it is created so: the keys are never world-readable, even briefly). */
    public void write(Path file) throws IOException {
        Properties p = new Properties();
        p.setProperty("esp", esp.id());
        p.setProperty("card", cardOuter);
        p.setProperty("peer", peerOuter);
        p.setProperty("card-prefix", cardPrefix);
        p.setProperty("peer-prefix", peerPrefix);
        p.setProperty("to-peer.spi", toPeer.spiHex());
        p.setProperty("to-peer.key", toPeer.keyHex());
        p.setProperty("to-card.spi", toCard.spiHex());
        p.setProperty("to-card.key", toCard.keyHex());
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "ESP tunnel keys of one card boot, made by cardnet lab; secret");
        }
    }

    /** Reads a file {@link #write} wrote; a missing or malformed entry is named. */
    public static TunnelKeys read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        EspProposal esp = EspProposal.byId(need(p, file, "esp"));
        if (esp == null) {
            throw new IOException(file + ": esp '" + p.getProperty("esp") + "' is none of " + EspProposal.known());
        }
        return new TunnelKeys(esp, need(p, file, "card"), need(p, file, "peer"), need(p, file, "card-prefix"),
                need(p, file, "peer-prefix"), sa(p, file, "to-peer", esp), sa(p, file, "to-card", esp));
    }

    private static Sa sa(Properties p, Path file, String name, EspProposal esp) throws IOException {
        try {
            int spi = Integer.parseUnsignedInt(need(p, file, name + ".spi").replaceFirst("^0x", ""), 16);
            byte[] key = HexFormat.of().parseHex(need(p, file, name + ".key").replaceFirst("^0x", ""));
            if (key.length != esp.keyBytes()) {
                throw new IOException(file + ": " + name + ".key has " + key.length + " bytes; " + esp.id() + " takes "
                        + esp.keyBytes());
            }
            return new Sa(spi, key);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + name + ".spi or .key is not hexadecimal");
        }
    }

    private static String need(Properties p, Path file, String key) throws IOException {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new IOException(file + ": missing '" + key + "'");
        }
        return v.strip();
    }
}
