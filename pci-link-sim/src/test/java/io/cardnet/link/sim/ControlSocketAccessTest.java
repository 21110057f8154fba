package io.cardnet.link.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.link.protocol.BusAddress;
import io.cardnet.link.protocol.Liveness;
import io.cardnet.netdev.Subprocess;
import io.cardnet.netdev.testing.RootRequired;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who may steer a lab's link: the control socket is owner-only, and even when its mode is loosened the peer's
 * credentials (SO_PEERCRED) keep everyone but the owner and root out. Another user is played by the real
 * `nobody` through setpriv(1), with Python's socket module as the client.
 */
class ControlSocketAccessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLIENT = "import socket,sys\n"
            + "s=socket.socket(socket.AF_UNIX)\n"
            + "try:\n"
            + "    s.connect(sys.argv[1])\n"
            + "except OSError as e:\n"
            + "    print('connect: '+e.strerror); sys.exit(3)\n"
            + "s.sendall(b'{\"op\":\"status\"}\\n')\n"
            + "print(s.makefile().readline().strip())\n";

    private static Subprocess.Result asNobody(Path socket) throws Exception {
        return Subprocess.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "/usr/bin/python3", "-c", CLIENT, socket.toString()), Duration.ofSeconds(30));
    }

    @Test
    void onlyTheOwnerAndRootAreAnsweredAndOthersAreToldWhyAndCounted() throws Exception {
        RootRequired.check();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "cardnet-control");
        // the directory may be traversed by anyone: only the socket's own mode and the peer check stand in the way
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path socket = dir.resolve("control.sock");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LinkSimulator sim = new LinkSimulator(new SimulatorConfig(new BusAddress.Unix(dir.resolve("host.sock")),
                new BusAddress.Unix(dir.resolve("card.sock")), socket, new Liveness(Duration.ofMillis(100), 5), 0),
                registry).start()) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));

            // the owner (this test runs as root, the lab's owner here) is answered
            Subprocess.Result owner = Subprocess.run(List.of("/usr/bin/python3", "-c", CLIENT, socket.toString()),
                    Duration.ofSeconds(30));
            assertTrue(owner.ok(), owner.describe());
            assertEquals("DOWN", JSON.readTree(owner.stdout()).path("state").asText(), owner.stdout());

            // another user cannot even connect to the owner-only socket
            Subprocess.Result denied = asNobody(socket);
            assertEquals(3, denied.exitCode(), denied.describe());
            assertTrue(denied.stdout().contains("Permission denied"), denied.describe());

            // with the mode loosened, the peer check refuses it with a reason, and counts it
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Subprocess.Result refused = asNobody(socket);
            assertTrue(refused.ok(), refused.describe());
            String error = JSON.readTree(refused.stdout()).path("error").asText();
            assertTrue(error.startsWith("refused: user nobody is not this lab's owner"), refused.stdout());
            assertFalse(refused.stdout().contains("\"state\""), "no status for a stranger: " + refused.stdout());
            assertEquals(1.0, registry.get("cardnet.control.refused").counter().count());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.delete(dir);
        }
    }
}
