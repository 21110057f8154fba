package io.cardnet.lab.drill;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.ExecResult;
import io.cardnet.lab.runtime.LabRuntime;
import io.cardnet.lab.runtime.LabState;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The embedded lab, its card a namespace or a VM: slots are directories under its run directory (and for a VM a
 * disk each), a reboot recreates the card's namespace or starts a new QEMU on the slot's disk.
 */
public record LabTarget(Lab lab) implements DrillTarget {
    /** A VM card boots a kernel and a JVM under TCG (about 30 s here), so its new firmware gets longer. */
    static final Duration VM_WATCHDOG = Duration.ofSeconds(180);

    @Override
    public String name() {
        return lab.config().name();
    }

    @Override
    public String hostNamespace() {
        return lab.hostNamespace();
    }

    @Override
    public String cardNamespace() {
        return lab.names().cardNamespace();
    }

    @Override
    public String wireNamespace() {
        return lab.names().wireNamespace();
    }

    @Override
    public String hostAddress() {
        return lab.hostAddress();
    }

    @Override
    public String cardAddress() {
        return lab.cardAddress();
    }

    @Override
    public String peerAddress() {
        return lab.config().addresses().peerWire().address().getHostAddress();
    }

    @Override
    public JsonNode linkStatus() throws IOException {
        return lab.linkStatus();
    }

    @Override
    public LabState.FirmwareSlots slots() {
        LabState.FirmwareSlots s = lab.state().firmware();
        if (s == null) {
            throw new LabException("lab '" + name() + "' runs card-node without firmware slots; start it with"
                    + " `cardnet lab up --firmware VERSION` to drill");
        }
        return s;
    }

    @Override
    public Firmware install(String slot, Firmware firmware) throws IOException {
        return lab.installFirmware(slot, firmware);
    }

    @Override
    public Firmware firmware(String slot) throws IOException {
        try {
            return FirmwareLoader.load(lab.firmwareDir(slot));
        } catch (FirmwareException e) {
            throw new LabException("the firmware in slot " + slot + " is refused: " + e.getMessage());
        }
    }

    @Override
    public void reboot(String slot) throws IOException {
        lab.rebootCard(slot);
    }

    @Override
    public ExecResult execOnCard(List<String> argv, Duration timeout) throws IOException {
        return lab.execOnCard(argv, timeout);
    }

    @Override
    public TrafficPace trafficPace() {
        return lab.runtime() == LabRuntime.VM && "tcg".equals(lab.state().vm().accel()) ? TrafficPace.EMULATED
                : TrafficPace.NATIVE;
    }

    @Override
    public Duration defaultWatchdog() {
        return lab.runtime() == LabRuntime.VM ? VM_WATCHDOG : DrillTarget.super.defaultWatchdog();
    }
}
