package io.cardnet.lab.runtime;

import io.cardnet.card.firmware.Firmware;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The part of an embedded lab that differs by what the card is ({@link LabRuntime}): how its network port is
 * wired, how a firmware slot becomes bootable, what command boots it, what a reboot resets, how a command runs on
 * it and where its console is. {@link Lab} keeps everything else (namespaces, processes, the bus, state).
 */
sealed interface CardRuntime permits NetnsCard, VmCard {
    /** Wires the card's network port to the wire peer; the card's and the wire's namespaces exist. */
    void wire() throws IOException;

    /** Makes {@code slot} bootable with {@code installed}, whose files are already in the slot's directory. */
    void install(String slot, Firmware installed) throws IOException;

    /** Called before the card's first start: whatever the card needs that the bus does not make. */
    default void prepare() throws IOException {
    }

    /** Just before the card boots {@code slot} (each boot, not a `lab restart` of the same command). */
    default void beforeBoot(String slot) throws IOException {
    }

    /** The command that boots the card from {@code slot}; it runs in the card's namespace. */
    List<String> command(String slot) throws IOException;

    /** Between stopping the old card and booting the new one: a reboot leaves nothing of the old card's state. */
    void reset() throws IOException;

    /** Runs {@code argv} on the card: in its namespace, or inside the VM. */
    ExecResult exec(List<String> argv, Duration timeout) throws IOException;

    /** What the card printed: a VM's serial console, or card-node's log. */
    Path console();

    /** The kernel the card runs ({@code uname -r} on it, or what its image says), null if it cannot tell yet. */
    String kernel();
}
