package io.cardnet.link.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.link.service.SocketService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The simulator's control socket: one JSON request per line, one JSON answer per line.
 * The socket file is made owner-only (0600), so only the lab's owner can read or steer the link.
 * Requests: {@code {"op":"status"}}.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final LinkSimulator simulator;
    private SocketService service;

    ControlServer(Path path, LinkSimulator simulator) {
        this.path = path;
        this.simulator = simulator;
    }

    ControlServer start() throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        service = SocketService.start(server, "control", this::serve);
        log.info("control socket on {}", path);
        return this;
    }

    private void serve(SocketChannel client) {
        try (client;
             BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client),
                     StandardCharsets.UTF_8));
             OutputStream out = Channels.newOutputStream(client)) {
            String line;
            while ((line = in.readLine()) != null) {
                Object answer = answer(line);
                out.write((JSON.writeValueAsString(answer) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            log.debug("control client went away: {}", e.toString());
        }
    }

    private Object answer(String line) {
        JsonNode request;
        try {
            request = JSON.readTree(line);
        } catch (IOException e) {
            return Map.of("error", "request is not JSON: " + e.getMessage().lines().findFirst().orElse("")
                    + "; send one object per line, e.g. {\"op\":\"status\"}");
        }
        String op = request == null ? "" : request.path("op").asText("");
        return switch (op) {
            case "status" -> simulator.status();
            default -> Map.of("error", "unknown op '" + op + "'; ops: status");
        };
    }

    @Override
    public void close() {
        try {
            if (service != null) {
                service.close();
            }
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("closing the control socket: {}", e.toString());
        }
    }
}
