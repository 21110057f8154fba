package io.cardnet.card;

import io.cardnet.card.firmware.Firmware;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What booting a firmware does to the card's namespace before the services start: its sysctls, then its
 * nftables ruleset. The namespace is new at every boot (a swap recreates it), so nothing of an older firmware
 * is left to undo.
 */
final class FirmwareBoot {
    private static final Logger log = LoggerFactory.getLogger(FirmwareBoot.class);

    private FirmwareBoot() {
    }

    static void apply(Firmware f) throws IOException {
        for (var e : f.sysctls().entrySet()) {
            // /proc/sys/net belongs to the namespace of the process writing it: the card's.
            Path p = Path.of("/proc/sys", e.getKey().replace('.', '/'));
            if (Files.isReadable(p) && Files.readString(p).strip().equals(e.getValue())) {
                // Already so: in a container /proc/sys is read-only, and compose.yaml's sysctls set it instead.
                continue;
            }
            try {
                Files.writeString(p, e.getValue() + "\n");
            } catch (IOException x) {
                throw new IOException("firmware " + f.version() + ": cannot set sysctl " + e.getKey() + "=" + e.getValue()
                        + " (" + x.getMessage() + "); in a container, set it with compose.yaml's sysctls", x);
            }
        }
        io.cardnet.netdev.Subprocess.Result nft = io.cardnet.netdev.Subprocess.run(
                java.util.List.of("nft", "-f", f.ruleset().toString()), java.time.Duration.ofSeconds(30));
        if (!nft.ok()) {
            throw new IOException("firmware " + f.version() + ": " + nft.describe());
        }
        log.info("firmware {} booted: sysctls {}, ruleset {} loaded", f.version(), f.sysctls(), f.ruleset().getFileName());
    }
}
