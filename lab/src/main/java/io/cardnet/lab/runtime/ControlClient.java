package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/** Talks to the simulator's control socket: one JSON request line, one JSON answer line. */
public final class ControlClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ControlClient() {
    }

    /**
     * Connects to a simulator's control socket and sends one request line; the caller reads the answer (a JSON
     * line, and for a capture the stream after it) and closes the channel.
     */
    public static SocketChannel open(Path socket, Map<String, Object> request) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8)));
            return ch;
        } catch (IOException e) {
            ch.close();
            throw new IOException("the simulator's control socket " + socket + " does not answer (" + e.getMessage()
                    + "); is the lab up? `cardnet lab status`", e);
        }
    }

    public static JsonNode request(Path socket, Map<String, Object> request) throws IOException {
        try (SocketChannel ch = open(socket, request)) {
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch),
                    StandardCharsets.UTF_8));
            String line = in.readLine();
            if (line == null) {
                throw new IOException("the simulator closed its control socket without answering");
            }
            JsonNode answer = JSON.readTree(line);
            if (answer.has("error")) {
                throw new IOException("the simulator refused: " + answer.get("error").asText());
            }
            return answer;
        } catch (java.net.SocketException | java.nio.channels.ClosedChannelException e) {
            throw new IOException("the simulator's control socket " + socket + " does not answer (" + e.getMessage()
                    + "); is the lab up? `cardnet lab status`", e);
        }
    }

    public static JsonNode status(Path socket) throws IOException {
        return request(socket, Map.of("op", "status"));
    }
}
