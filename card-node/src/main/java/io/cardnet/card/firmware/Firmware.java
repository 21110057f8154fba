package io.cardnet.card.firmware;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One card firmware, as {@code images/card-firmware/<version>/firmware.yaml} describes it, checked by
 * {@link FirmwareLoader}. The same directory runs in the netns runtime and is packed into the card's container
 * image.
 *
 * @param directory      where firmware.yaml and the files it names live
 * @param services       what card-node serves once up
 * @param sysctls        written under /proc/sys in the card's namespace (forwarding is one of them)
 * @param ruleset        the nftables ruleset file, loaded with {@code nft -f} at boot
 * @param authorizedKeys the console's authorized_keys file, or null for no console logins
 * @param health         what must hold for the firmware to count as up (the drill's watchdog waits for all)
 * @param overlay        the overlay of files shipped with the firmware, or null
 * @param kernel         the kernel the card boots as a virtual machine ({@link CardKernel#defaultKernel()} when
 *                       firmware.yaml names none)
 * @param ipsec          the ESP tunnel to the wire peer the card runs, or null for none
 */
public record Firmware(String version, String description, Path directory, List<CardService> services,
                       Map<String, String> sysctls, Path ruleset, Path authorizedKeys, List<HealthCheck> health,
                       Path overlay, CardKernel kernel, Ipsec ipsec) {
    public static final String FILE = "firmware.yaml";

    public Firmware {
        services = List.copyOf(services);
        sysctls = Map.copyOf(sysctls);
        health = List.copyOf(health);
        java.util.Objects.requireNonNull(kernel, "kernel");
    }

    /** The same firmware with its files at the same places under {@code dir} (a copy of {@link #directory}). */
    public Firmware relocated(Path dir) {
        return new Firmware(version, description, dir, services, sysctls, under(dir, ruleset), under(dir, authorizedKeys),
                health, under(dir, overlay), kernel.path() != null && kernel.path().startsWith(directory)
                        ? new CardKernel(kernel.spec(), under(dir, kernel.path()), kernel.cmdline(), kernel.line()) : kernel, ipsec);
    }

    private Path under(Path dir, Path file) {
        return file == null ? null : dir.resolve(directory.relativize(file).toString());
    }

    /** True if a service of this firmware listens on {@code port}. */
    public boolean serves(int port) {
        return services.stream().anyMatch(s -> s.port() == port);
    }
}
