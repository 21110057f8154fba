package io.cardnet.lab.runtime;

/** Names of what a lab creates, derived from its name so that `lab down` can find them again. */
public record LabNames(String lab) {
    public static final String HOST_DEVICE = "toe0";
    public static final String CARD_DEVICE = "host0";
    public static final String WIRE_DEVICE = "eth0";

    public String cardNamespace() {
        return "cardnet-" + lab + "-card";
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
        return java.util.List.of(hostNamespace(), cardNamespace(), wireNamespace());
    }
}
