package io.cardnet.lab;

import io.cardnet.lab.runtime.ExecResult;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.ContainerState;
import org.testcontainers.containers.wait.strategy.Wait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One `docker compose up` of compose.yaml for a test class: up once (health-gated), many checks against it, and
 * {@link #close} takes it down with its volumes and asserts that nothing of the project is left.
 */
final class ComposeLab implements AutoCloseable {
    static final Path COMPOSE = Path.of("..", "compose.yaml").toAbsolutePath().normalize();

    private final ComposeContainer compose;
    final String project;

    private ComposeLab(ComposeContainer compose, String project) {
        this.compose = compose;
        this.project = project;
    }

    /** Brings up {@code services} (and what they depend on) with {@code env}; waits for the healthy ones' checks. */
    static ComposeLab up(String name, Map<String, String> env, List<String> healthy, String... services) throws Exception {
        DockerRequired.check();
        ComposeContainer c = new ComposeContainer(name, COMPOSE.toFile())
                .withEnv(env)
                .withServices(services)
                .withPull(false)
                .withRemoveVolumes(true)
                .withStartupTimeout(Duration.ofMinutes(2));
        for (String s : healthy) {
            c = c.waitingFor(s, Wait.forHealthcheck());
        }
        long t0 = System.nanoTime();
        try {
            c.start();
            ContainerState host = c.getContainerByServiceName("host").orElseThrow();
            // Testcontainers makes the project name unique; the containers carry it
            String project = String.join("", DockerRequired.lines("inspect", "-f",
                    "{{index .Config.Labels \"com.docker.compose.project\"}}", host.getContainerId()));
            assertTrue(project.startsWith(name), project);
            System.out.printf("compose lab %s healthy in %.1f s%n", project, (System.nanoTime() - t0) / 1e9);
            return new ComposeLab(c, project);
        } catch (Throwable e) {
            c.stop(); // down -v, even when it never came up
            throw e;
        }
    }

    ContainerState container(String service) {
        return compose.getContainerByServiceName(service).orElseThrow(() -> new AssertionError("no " + service));
    }

    /**
     * `docker exec` in the service's running container, looked up now: a drill recreates the card's container,
     * which Testcontainers' own handle would not follow.
     */
    ExecResult exec(String service, String... command) throws Exception {
        List<String> ids = DockerRequired.lines("ps", "-q", "--filter", "label=com.docker.compose.project=" + project,
                "--filter", "label=com.docker.compose.service=" + service);
        assertEquals(1, ids.size(), "running " + service + " containers of " + project + ": " + ids);
        List<String> cmd = new java.util.ArrayList<>(List.of("docker", "exec", ids.getFirst()));
        cmd.addAll(List.of(command));
        return ExecResult.run(cmd, Duration.ofSeconds(300));
    }

    /** stdout and stderr of a command that must succeed in the service's container. */
    String run(String service, String... command) throws Exception {
        ExecResult r = exec(service, command);
        assertEquals(0, r.exitCode(), service + ": " + String.join(" ", command) + " failed: " + r.output());
        return r.stdout() + r.stderr();
    }

    /** A process's /metrics as the lab's Prometheus scrapes it, read from inside the card container (curl). */
    String metrics(String address) throws Exception {
        return run("card", "curl", "-sS", "--max-time", "10", "http://" + address + "/metrics");
    }

    /** The sum of a Prometheus text exposition's samples of {@code name} whose labels contain {@code labels}. */
    static double sum(String exposition, String name, String labels) {
        return exposition.lines()
                .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .filter(l -> labels.isEmpty() || l.contains(labels))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    /** `docker compose down -v`, then: no container, network or volume of the project is left. */
    @Override
    public void close() throws Exception {
        compose.stop();
        assertNothingLeft(project);
    }

    static void assertNothingLeft(String project) throws Exception {
        for (List<String> what : List.of(
                DockerRequired.lines("ps", "-a", "--filter", "label=com.docker.compose.project=" + project, "-q"),
                DockerRequired.lines("network", "ls", "--filter", "label=com.docker.compose.project=" + project, "-q"),
                DockerRequired.lines("volume", "ls", "--filter", "label=com.docker.compose.project=" + project, "-q"))) {
            assertEquals(List.of(), what, "`docker compose down -v` left these of project " + project + " behind");
        }
    }
}
