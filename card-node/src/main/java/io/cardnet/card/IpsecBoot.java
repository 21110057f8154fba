package io.cardnet.card;

import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.ipsec.EspGateway;
import io.cardnet.card.ipsec.TunnelKeys;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Brings up a firmware's ESP tunnel with the keys the lab handed the card; refuses clearly without them. */
final class IpsecBoot {
    private IpsecBoot() {
    }

    static EspGateway start(Firmware f, Path keysFile, MeterRegistry registry) throws IOException {
        if (keysFile == null || !Files.isReadable(keysFile)) {
            throw new IOException("firmware " + f.version() + " protects the wire with ESP (ipsec: in firmware.yaml,"
                    + " line " + f.ipsec().line() + ") but card-node has no keys" + (keysFile == null ? ""
                    : " (" + keysFile + " is missing)") + ": the lab (`cardnet lab up`, `cardnet drill`) makes them at"
                    + " each boot and passes --ipsec-keys FILE (a VM card gets the file over fw_cfg); a firmware never"
                    + " ships them");
        }
        TunnelKeys k = TunnelKeys.read(keysFile);
        if (k.esp() != f.ipsec().esp()) {
            throw new IOException(keysFile + " holds " + k.esp().id() + " keys but firmware " + f.version() + " names "
                    + f.ipsec().esp().id() + ": the keys are not this boot's");
        }
        return EspGateway.start(k, EspGateway.End.CARD, registry, "cardnet.card.ipsec");
    }
}
