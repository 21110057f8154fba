package io.cardnet.lab.runtime;

/** The lab's processes, in start order. */
public enum Component {
    SIM("sim", "pci-link-sim"),
    CARD_NODE("card-node", "card-node"),
    HOST_BRIDGE("host-bridge", "host-bridge");

    private final String command;
    private final String displayName;

    Component(String command, String displayName) {
        this.command = command;
        this.displayName = displayName;
    }

    /** The cardnet subcommand that runs it, also its name on the command line. */
    public String command() {
        return command;
    }

    public String displayName() {
        return displayName;
    }

    public static Component parse(String text) {
        for (Component c : values()) {
            if (c.command.equals(text) || c.displayName.equals(text)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no lab component '" + text + "'; components: sim, card-node, host-bridge");
    }
}
