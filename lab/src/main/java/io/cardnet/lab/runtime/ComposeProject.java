package io.cardnet.lab.runtime;

import io.cardnet.netdev.Subprocess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A compose lab as {@code cardnet lab up|status|down --runtime compose} sees it: a Docker Compose project of
 * compose.yaml, with {@link ComposeCards}' override when it has several cards. Docker keeps the record: every
 * container carries its project's compose files in a label, so a later command finds the files (and with them the
 * cards) of a running project by its name alone; the generated files live in {@link #stateDir} until {@link #down}.
 *
 * @param project     the compose project's name
 * @param files       compose.yaml, then the override if any
 * @param cards       how many cards the project runs
 */
public record ComposeProject(String project, List<Path> files, int cards) {
    /** Where `lab up --runtime compose` writes a project's override and Prometheus configuration. */
    public static final Path STATE_ROOT = LabConfig.RUN_ROOT.resolve("compose");
    /** Building nothing, an up of the lab's containers (health-gated) takes tens of seconds; a stuck engine, not minutes. */
    private static final Duration UP_DEADLINE = Duration.ofMinutes(4);
    private static final Duration DOCKER_DEADLINE = Duration.ofSeconds(120);

    public ComposeProject {
        if (project == null || !project.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
            throw new IllegalArgumentException("compose project '" + project + "' must be lower-case letters, digits,"
                    + " '-' and '_', starting with a letter or digit (Docker Compose's rule)");
        }
        files = List.copyOf(files);
    }

    public static Path stateDir(String project) {
        return STATE_ROOT.resolve(project);
    }

    /**
     * Brings the project up with {@code cards} cards and waits until every link has trained (compose's health checks):
     * {@code docker compose -p PROJECT -f COMPOSE [-f OVERRIDE] up -d --wait}. {@code env} adds to compose's
     * environment (LINK_MODEL, LINK_UPSTREAM, CARD_FIRMWARE, PROMETHEUS_IMAGE).
     */
    public static ComposeProject up(String project, Path composeFile, int cards, Map<String, String> env,
                                    Consumer<String> progress) throws IOException {
        Path compose = composeFile.toAbsolutePath().normalize();
        if (!Files.isRegularFile(compose)) {
            throw new LabException("no compose file " + compose + ": run from the cardnet checkout, or give it with --file");
        }
        if (!running(project).isEmpty()) {
            throw new LabException("compose project " + project + " is already running; `cardnet lab down --runtime compose"
                    + " --project " + project + "` first, or pick another --project");
        }
        List<Path> files = new ArrayList<>(List.of(compose));
        if (cards > 1) {
            Path dir = stateDir(project);
            Files.createDirectories(dir);
            Path prometheus = dir.resolve("prometheus.yml");
            Files.writeString(prometheus, ComposeCards.prometheus(cards));
            Path override = dir.resolve("compose.cards.yaml");
            Files.writeString(override, ComposeCards.override(cards, prometheus.toString()));
            files.add(override);
        }
        ComposeProject p = new ComposeProject(project, files, cards);
        progress.accept("docker compose -p " + project + " " + p.fileArgs() + " up -d --wait (" + cards
                + (cards == 1 ? " card" : " cards") + ")");
        try {
            p.compose(env, UP_DEADLINE, "up", "-d", "--wait");
        } catch (IOException e) {
            progress.accept("the compose lab did not come up; taking it down");
            try {
                p.down();
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        return p;
    }

    /** The running project {@code project}: its compose files from its containers' labels, its cards from its services. */
    public static ComposeProject attach(String project) throws IOException {
        List<String> ids = running(project);
        if (ids.isEmpty()) {
            throw new LabException("no compose project " + project + " is running (`cardnet lab up --runtime compose"
                    + " --project " + project + "`, or `docker compose -p " + project + " up -d --wait`)");
        }
        String labels = docker("inspect", "-f", "{{index .Config.Labels \"com.docker.compose.project.config_files\"}}",
                ids.getFirst()).strip();
        List<Path> files = Arrays.stream(labels.split(",")).map(Path::of).toList();
        int cards = 0;
        for (String id : ids) {
            String service = docker("inspect", "-f", "{{index .Config.Labels \"com.docker.compose.service\"}}", id).strip();
            if (service.matches("card[0-9]*")) {
                cards++;
            }
        }
        return new ComposeProject(project, files, Math.max(cards, 1));
    }

    /** Ids of the project's containers, running or not. */
    private static List<String> running(String project) throws IOException {
        return docker("ps", "-a", "-q", "--filter", "label=com.docker.compose.project=" + project).lines()
                .filter(l -> !l.isBlank()).toList();
    }

    /** Card {@code k}, or a message naming the cards there are. */
    public void requireCard(int k) {
        if (k < 0 || k >= cards) {
            throw new IllegalArgumentException("card " + k + " does not exist: compose project " + project + " has " + cards
                    + (cards == 1 ? " card (--card 0)" : " cards (--card 0.." + (cards - 1) + ")"));
        }
    }

    /** Card {@code k}'s control socket, reached through the bus volume on the Docker host. */
    public Path controlSocket(int k) throws IOException {
        requireCard(k);
        String mount = docker("volume", "inspect", "-f", "{{.Mountpoint}}", project + "_bus").strip();
        return k == 0 ? Path.of(mount, "control.sock") : Path.of(mount, "card" + k, "control.sock");
    }

    /** The running container of {@code service}, or a message saying how to start it. */
    public String container(String service) throws IOException {
        String id = compose(Map.of(), DOCKER_DEADLINE, "ps", "-q", service).strip();
        if (id.isEmpty()) {
            throw new LabException("compose project " + project + " has no running " + service + " container"
                    + " (`cardnet lab status --runtime compose --project " + project + "`)");
        }
        return id;
    }

    /** {@code argv} in {@code service}'s container ({@code docker exec}). */
    public ExecResult exec(String service, List<String> argv, Duration timeout) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker", "exec", container(service)));
        cmd.addAll(argv);
        return ExecResult.run(cmd, timeout);
    }

    /** {@code docker compose down -v}: every container, network and volume of the project; then its generated files. */
    public void down() throws IOException {
        compose(Map.of(), UP_DEADLINE, "down", "-v", "--remove-orphans");
        Path dir = stateDir(project);
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                for (Path f : s.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** "-f A -f B", for messages that tell the user the plain compose command. */
    public String fileArgs() {
        StringBuilder s = new StringBuilder();
        for (Path f : files) {
            s.append(s.isEmpty() ? "" : " ").append("-f ").append(f);
        }
        return s.toString();
    }

    private String compose(Map<String, String> env, Duration deadline, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker", "compose", "-p", project));
        for (Path f : files) {
            cmd.addAll(List.of("-f", f.toString()));
        }
        cmd.addAll(List.of(args));
        return Subprocess.run(cmd, deadline, env).orThrow().stdout();
    }

    private static String docker(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(List.of(args));
        return Subprocess.run(cmd, DOCKER_DEADLINE, Map.of()).orThrow().stdout();
    }
}
