package io.cardnet.card.firmware;

import java.util.List;

/**
 * Something that must hold on the card for its firmware to count as up. Each names where it was declared, so a
 * failing check can be traced to its line of firmware.yaml.
 */
public sealed interface HealthCheck {
    /** firmware.yaml's line that declared it. */
    int line();

    /** A short text for reports: "listening 9", "sysctl net.ipv4.ip_forward=1", "command nft list ...". */
    String describe();

    /** A TCP port on the card accepts connections. */
    record Listening(int port, int line) implements HealthCheck {
        @Override
        public String describe() {
            return "listening " + port;
        }
    }

    /** A sysctl of the card's namespace has this value. */
    record Sysctl(String key, String expected, int line) implements HealthCheck {
        @Override
        public String describe() {
            return "sysctl " + key + "=" + expected;
        }
    }

    /** A command run in the card's namespace exits 0. */
    record Command(List<String> argv, int line) implements HealthCheck {
        public Command {
            argv = List.copyOf(argv);
        }

        @Override
        public String describe() {
            return "command " + String.join(" ", argv);
        }
    }

    /** The firmware's ESP tunnel is up on the card: its tunnel device exists and is up (firmware.yaml: {@code ipsec: up}). */
    record Ipsec(int line) implements HealthCheck {
        @Override
        public String describe() {
            return "ipsec up";
        }
    }
}
