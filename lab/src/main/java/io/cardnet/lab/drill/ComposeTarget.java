package io.cardnet.lab.drill;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.card.firmware.Firmware;
import io.cardnet.card.firmware.FirmwareException;
import io.cardnet.card.firmware.FirmwareLoader;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.FirmwareCatalog;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabState;
import io.cardnet.lab.runtime.Shell;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The `docker compose` lab as a drill target. A slot is a firmware image, {@code cardnet/card-firmware:VERSION}
 * (images/build.sh builds one per firmware directory); a reboot recreates the card's container from the slot's
 * image ({@code up -d --no-deps --force-recreate card} with {@code CARD_FIRMWARE}), so nothing of the old card's
 * kernel state survives, exactly as the netns card's namespace is recreated. When either firmware has ipsec:, the
 * keys service runs first from the new image (ESP keys if it has ipsec:, none otherwise), and the wire's esp-peer is
 * recreated after the card.
 *
 * <p>To reuse the netns drill's probes and traffic unchanged, the host, card and wire containers' network
 * namespaces are given names ({@code ip netns attach}) for the drill's duration, and the bus's control socket is
 * reached through its volume on the Docker host. The names are removed when the drill ends; the containers'
 * namespaces are the containers' own and stay.
 */
public final class ComposeTarget implements DrillTarget {
    static final String IMAGE = "cardnet/card-firmware:";

    private final String project;
    private final Path composeFile;
    private final Consumer<String> progress;
    private final Path controlSocket;
    private final Map<String, Firmware> firmware = new HashMap<>();
    private LabState.FirmwareSlots slots;
    private String cardContainer;

    private ComposeTarget(String project, Path composeFile, Consumer<String> progress, Path controlSocket) {
        this.project = project;
        this.composeFile = composeFile;
        this.progress = progress;
        this.controlSocket = controlSocket;
    }

    /** The running compose project {@code project} of {@code composeFile}. */
    public static ComposeTarget attach(String project, Path composeFile, Consumer<String> progress) throws IOException {
        ComposeTarget t = new ComposeTarget(project, composeFile.toAbsolutePath(), progress,
                Path.of(docker("volume", "inspect", "-f", "{{.Mountpoint}}", project + "_bus").strip(), "control.sock"));
        t.cardContainer = t.container("card");
        String version = docker("inspect", "-f", "{{index .Config.Labels \"io.cardnet.firmware\"}}", t.cardContainer).strip();
        if (version.isEmpty() || version.equals("<no value>")) {
            throw new LabException("the card of compose project " + project + " runs an image without a firmware label;"
                    + " start it from a cardnet/card-firmware image (CARD_FIRMWARE)");
        }
        t.slots = new LabState.FirmwareSlots("a", version, null);
        t.firmware.put("a", load(FirmwareCatalog.resolve(version)));
        try {
            for (String service : List.of("host", "card", "wire")) {
                t.name(service);
            }
        } catch (IOException | RuntimeException e) {
            t.done();
            throw e;
        }
        return t;
    }

    private String container(String service) throws IOException {
        String id = compose(Map.of(), "ps", "-q", service).strip();
        if (id.isEmpty()) {
            throw new LabException("compose project " + project + " has no running " + service + " container"
                    + " (`docker compose -p " + project + " up -d --wait` first)");
        }
        return id;
    }

    /** Gives the service's container's network namespace the name the drill uses for it. */
    private void name(String service) throws IOException {
        String ns = namespace(service);
        Shell.run(List.of("ip", "netns", "del", ns), 10);
        String pid = docker("inspect", "-f", "{{.State.Pid}}", container(service)).strip();
        Shell.ip("netns", "attach", ns, pid);
    }

    private String namespace(String service) {
        return "cardnet-" + project + "-" + service;
    }

    @Override
    public String name() {
        return "compose project " + project;
    }

    @Override
    public String hostNamespace() {
        return namespace("host");
    }

    @Override
    public String cardNamespace() {
        return namespace("card");
    }

    @Override
    public String wireNamespace() {
        return namespace("wire");
    }

    @Override
    public String hostAddress() {
        return "198.18.0.1";
    }

    @Override
    public String cardAddress() {
        return "198.18.0.2";
    }

    @Override
    public String peerAddress() {
        return "198.18.1.1";
    }

    @Override
    public JsonNode linkStatus() throws IOException {
        return ControlClient.status(controlSocket);
    }

    @Override
    public LabState.FirmwareSlots slots() {
        return slots;
    }

    @Override
    public Firmware install(String slot, Firmware f) throws IOException {
        if (!Shell.run(List.of("docker", "image", "inspect", IMAGE + f.version()), 30).ok()) {
            throw new LabException("image " + IMAGE + f.version() + " is not built: put the firmware in"
                    + " images/card-firmware/" + f.version() + "/ and run images/build.sh");
        }
        firmware.put(slot, f);
        slots = slots.with(slot, f.version());
        progress.accept("firmware " + f.version() + " in slot " + slot + " (image " + IMAGE + f.version() + ")");
        return f;
    }

    @Override
    public Firmware firmware(String slot) {
        return firmware.get(slot);
    }

    @Override
    public void reboot(String slot) throws IOException {
        String image = IMAGE + slots.version(slot);
        Map<String, String> env = upEnvironment(image);
        // When the old or the new firmware has an ESP tunnel, the keys service, run from the new image, makes the
        // keys its ipsec: needs (or removes them), and the wire's esp-peer is recreated to start or stop its end
        // with them; between firmwares without one, neither is touched (the JVM's start would lengthen the outage).
        Firmware now = firmware.get(slots.active());
        boolean tunnel = firmware.get(slot).ipsec() != null || (now != null && now.ipsec() != null);
        if (tunnel) {
            compose(env, "run", "--rm", "-T", "--no-deps", "keys");
        }
        compose(env, "up", "-d", "--no-deps", "--force-recreate", "card");
        if (tunnel && !compose(Map.of(), "ps", "-q", "esp-peer").isBlank()) {
            compose(env, "up", "-d", "--no-deps", "--force-recreate", "esp-peer");
        }
        cardContainer = container("card");
        name("card");
        slots = slots.activate(slot);
        progress.accept("card recreated from " + image);
    }

    /**
     * What the lab was brought up with, so the recreated card runs the same services on the new image: the card's
     * CARD_RELAY, and CARDNET_EXPORT (the host container's /export, when it is a host directory), which compose.yaml
     * turns into the card's web server. Whoever runs the drill need not repeat them.
     */
    private Map<String, String> upEnvironment(String image) throws IOException {
        Map<String, String> env = new HashMap<>(Map.of("CARD_FIRMWARE", image));
        for (String line : docker("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", cardContainer).split("\n")) {
            if (line.startsWith("CARD_RELAY=") && line.length() > "CARD_RELAY=".length()) {
                env.put("CARD_RELAY", line.substring("CARD_RELAY=".length()));
            }
        }
        String export = docker("inspect", "-f", "{{range .Mounts}}{{if and (eq .Destination \"/export\") (eq .Type \"bind\")}}"
                + "{{.Source}}{{end}}{{end}}", container("host")).strip();
        if (!export.isEmpty()) {
            env.put("CARDNET_EXPORT", export);
        }
        return env;
    }

    @Override
    public io.cardnet.lab.runtime.ExecResult execOnCard(List<String> argv, java.time.Duration timeout) throws IOException {
        return exec(cardContainer, argv, timeout);
    }

    /** Runs {@code argv} in the compose project's card container ({@code docker exec}). */
    public static io.cardnet.lab.runtime.ExecResult execOnCard(String project, Path composeFile, List<String> argv,
                                                             java.time.Duration timeout) throws IOException {
        String id = run(List.of("docker", "compose", "-p", project, "-f", composeFile.toString(), "ps", "-q", "card"),
                Map.of()).strip();
        if (id.isEmpty()) {
            throw new LabException("compose project " + project + " has no running card container"
                    + " (`docker compose -p " + project + " up -d --wait` first)");
        }
        return exec(id, argv, timeout);
    }

    /**
     * The argv of an SSH session on the card's console from the compose project's host container: its stock
     * {@code ssh} with the lab's key and the ssh_config the keys service wrote in the console volume (compose.yaml
     * mounts it at /console). A terminal is given when {@code tty} (an interactive shell), stdin always.
     */
    public static List<String> consoleSession(String project, Path composeFile, List<String> command, boolean tty)
            throws IOException {
        String id = run(List.of("docker", "compose", "-p", project, "-f", composeFile.toString(), "ps", "-q", "host"),
                Map.of()).strip();
        if (id.isEmpty()) {
            throw new LabException("compose project " + project + " has no running host container"
                    + " (`docker compose -p " + project + " up -d --wait` first)");
        }
        List<String> argv = new ArrayList<>(List.of("docker", "exec", tty ? "-it" : "-i", id, "ssh", "-F",
                CONSOLE_SSH_CONFIG, io.cardnet.lab.runtime.ComposeSecrets.HOST));
        if (!command.isEmpty()) {
            argv.add("--");
            argv.addAll(command);
        }
        return argv;
    }

    /** Where compose.yaml mounts the console volume in the host container, and the keys service's ssh_config in it. */
    public static final String CONSOLE_SSH_CONFIG = "/console/ssh_config";

    private static io.cardnet.lab.runtime.ExecResult exec(String container, List<String> argv, java.time.Duration timeout)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker", "exec", container));
        cmd.addAll(argv);
        return io.cardnet.lab.runtime.ExecResult.run(cmd, timeout);
    }

    @Override
    public void done() {
        for (String service : List.of("host", "card", "wire")) {
            try {
                Shell.run(List.of("ip", "netns", "del", namespace(service)), 10);
            } catch (IOException e) {
                progress.accept("could not remove the name " + namespace(service) + ": " + e.getMessage());
            }
        }
    }

    private static Firmware load(Path dir) throws IOException {
        try {
            return FirmwareLoader.load(dir);
        } catch (FirmwareException e) {
            throw new LabException("firmware refused, nothing was changed: " + e.getMessage());
        }
    }

    private String compose(Map<String, String> env, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker", "compose", "-p", project, "-f", composeFile.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, env);
    }

    private static String docker(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        return run(cmd, Map.of());
    }

    /** stdout of a docker command that must succeed within {@link #DOCKER_DEADLINE}. */
    private static String run(List<String> cmd, Map<String, String> env) throws IOException {
        return io.cardnet.netdev.Subprocess.run(cmd, DOCKER_DEADLINE, env).orThrow().stdout();
    }

    /** A compose up or down of the card's container, with its health check, takes seconds; a stuck engine, not minutes. */
    private static final java.time.Duration DOCKER_DEADLINE = java.time.Duration.ofSeconds(120);
}
