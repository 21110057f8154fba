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
 * The socket file is made owner-only (0600), so only the lab's owner (and root) can connect; and each connection's
 * peer credentials (SO_PEERCRED) are checked as well, so a socket whose mode was loosened, or one passed on,
 * still answers nobody else: they get one line saying why, and {@code cardnet_control_refused_total} counts them.
 * The operations are {@link LinkControl}'s.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final LinkControl control;
    private final io.micrometer.core.instrument.Counter refused;
    /** This process's user: the lab's owner. */
    private final String owner = System.getProperty("user.name");
    private SocketService service;

    ControlServer(Path path, LinkSimulator simulator) {
        this.path = path;
        this.control = new LinkControl(simulator);
        this.refused = simulator.metrics().controlRefused;
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

    /** Null if the peer may steer the link, else why not. */
    private String refusal(SocketChannel client) {
        try {
            jdk.net.UnixDomainPrincipal peer = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
            String user = peer.user().getName();
            return user.equals(owner) || user.equals("root") ? null
                    : "refused: user " + user + " is not this lab's owner (" + owner + "); the control socket answers"
                    + " only its owner and root; run cardnet as " + owner + " (sudo)";
        } catch (IOException | UnsupportedOperationException e) {
            return "refused: cannot read the peer's credentials (" + e.getMessage() + ")";
        } catch (LinkageError e) {
            // a jlinked runtime without jdk.net: refuse, and say how to fix it, rather than leave the client hanging
            return "refused: this Java runtime lacks the jdk.net module (SO_PEERCRED), so the peer cannot be checked;"
                    + " rebuild the images (images/build.sh) or run on a full JDK";
        }
    }

    private void serve(SocketChannel client) {
        String refusal = refusal(client);
        if (refusal != null) {
            refused.increment();
            log.warn("control socket: {}", refusal);
            try (client; OutputStream out = Channels.newOutputStream(client)) {
                out.write((JSON.writeValueAsString(Map.of("error", refusal)) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                log.debug("refused control client went away: {}", e.toString());
            }
            return;
        }
        try (client;
             BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client),
                     StandardCharsets.UTF_8));
             OutputStream out = Channels.newOutputStream(client)) {
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode request = parse(line);
                if (request != null && request.path("op").asText().equals("capture")) {
                    capture(request, in, out);
                    return;
                }
                Object answer = request == null ? notJson(line) : control.handle(request);
                out.write((JSON.writeValueAsString(answer) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException e) {
            log.debug("control client went away: {}", e.toString());
        }
    }

    private static JsonNode parse(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            return null;
        }
    }

    private static Object notJson(String line) {
        return Map.of("error", "request is not JSON: '" + (line.length() > 80 ? line.substring(0, 80) + "…" : line)
                + "'; send one object per line, e.g. {\"op\":\"status\"}");
    }

    /** Hands the connection to a capture session until it ends. */
    private void capture(JsonNode request, BufferedReader in, OutputStream out) throws IOException {
        int snaplen = request.path("snaplen").asInt(65535);
        long count = request.path("count").asLong(0);
        String refusal = snaplen < 64 || snaplen > 65535 ? "snaplen must be 64..65535, was " + snaplen
                : count < 0 ? "count must be 0 (no limit) or positive, was " + count
                : control.capturing() ? "a capture is already running on this bus; stop it first" : null;
        if (refusal != null) {
            out.write((JSON.writeValueAsString(Map.of("error", refusal)) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return;
        }
        new CaptureSession(control.simulator(), snaplen, count).run(in, new java.io.DataOutputStream(
                new java.io.BufferedOutputStream(out, 1 << 16)));
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
