package io.cardnet.lab.runtime;

/** Names of what a lab creates, derived from its name so that `lab down` can find them again. */
public record LabNames(String lab) {
    public static final String HOST_DEVICE = "toe0";
    public static final String CARD_DEVICE = "host0";
    public static final String WIRE_DEVICE = "eth0";

    public String cardNamespace() {
        return "cardnet-" + lab + "-card";
    }

    /** Card {@code k}'s namespace: card 0's is {@link #cardNamespace()}, card K's cardnet-NAME-cardK. */
    public String cardNamespace(int k) {
        return k == 0 ? cardNamespace() : cardNamespace() + k;
    }

    /** The host's device of card {@code k}: toe0, toe1, ... */
    public static String hostDevice(int k) {
        return "toe" + k;
    }

    /**
     * Card {@code k}'s cable ends in the wire namespace as eth0 (card 0, as before), eth1, ...: one wire peer with a
     * port per card. A pair of cards on one wire network will bridge their ports there.
     */
    public static String wirePort(int k) {
        return "eth" + k;
    }

    public String wireNamespace() {
        return "cardnet-" + lab + "-wire";
    }

    /** The host side's own namespace, used with --isolated. */
    public String hostNamespace() {
        return "cardnet-" + lab + "-host";
    }

    /** Every namespace a lab of this name may have created. */
    public java.util.List<String> allNamespaces() {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(hostNamespace(), cardNamespace(),
                wireNamespace()));
        for (int k = 1; k < LabConfig.Cards.MAX; k++) {
            all.add(cardNamespace(k));
        }
        return all;
    }
}
