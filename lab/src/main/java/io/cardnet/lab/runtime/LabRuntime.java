package io.cardnet.lab.runtime;

import java.util.Locale;

/**
 * What the embedded lab's card is. {@link #NETNS}: a network namespace on the host's own kernel, card-node a
 * process in it. {@link #VM}: a QEMU virtual machine with its own Linux kernel (the firmware's), card-node inside
 * it, the bus reaching it as PCI devices. The compose lab (`docker compose up`, or `lab up --runtime compose`) is the
 * third runtime, run by Docker rather than by {@link Lab} ({@link ComposeProject}).
 */
public enum LabRuntime {
    NETNS, VM;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static LabRuntime parse(String text) {
        for (LabRuntime r : values()) {
            if (r.id().equals(text)) {
                return r;
            }
        }
        throw new IllegalArgumentException("--runtime takes netns or vm here, not '" + text + "'"
                + ("compose".equals(text) ? " (the compose lab is `cardnet lab up --runtime compose` or `docker compose up`; see the README)" : ""));
    }
}
