package io.cardnet.lab.drill;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabState;

import java.io.IOException;

/** The embedded lab: slots are directories under its run directory, a reboot recreates the card's namespace. */
public record NetnsTarget(Lab lab) implements DrillTarget {
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
}
