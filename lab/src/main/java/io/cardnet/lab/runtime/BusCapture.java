package io.cardnet.lab.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.link.capture.Pcapng;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A capture of the bus through the simulator's control socket: the simulator streams pcapng blocks until it is
 * told to stop (or its packet count is reached), then a JSON summary. `cardnet link capture` and the soak use it.
 */
public final class BusCapture implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final DataInputStream in;
    private final int snaplen;

    private BusCapture(SocketChannel channel, DataInputStream in, int snaplen) {
        this.channel = channel;
        this.in = in;
        this.snaplen = snaplen;
    }

    /** Asks the simulator to start capturing; refused (with its reason) if it says no. */
    public static BusCapture start(Path controlSocket, int snaplen, long count) throws IOException {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("op", "capture");
        request.put("snaplen", snaplen);
        request.put("count", count);
        SocketChannel ch = ControlClient.open(controlSocket, request);
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch), 1 << 16));
            JsonNode started = JSON.readTree(readLine(in));
            if (started.has("error")) {
                throw new IOException("the simulator refused the capture: " + started.get("error").asText());
            }
            return new BusCapture(ch, in, snaplen);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Writes the pcapng file (header, then every block the simulator sends) to {@code out} until the capture
     * ends, and returns the simulator's summary: packets captured, dropped by a slow reader, bus counters.
     */
    public JsonNode copyTo(OutputStream out) throws IOException {
        out.write(Pcapng.fileHeader(snaplen));
        while (true) {
            int kind;
            try {
                kind = in.readUnsignedByte();
            } catch (EOFException e) {
                throw new IOException("the simulator closed the capture without a summary (did it stop?)");
            }
            int len = in.readInt();
            byte[] bytes = in.readNBytes(len);
            if (kind == 1) {
                out.write(bytes);
            } else {
                return JSON.readTree(bytes);
            }
        }
    }

    /** Tells the simulator to stop; {@link #copyTo} then returns with the summary. Safe from any thread. */
    public void stop() {
        try {
            synchronized (channel) {
                channel.write(ByteBuffer.wrap("stop\n".getBytes(StandardCharsets.UTF_8)));
            }
        } catch (IOException ignored) {
            // already closed: the capture is over
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static String readLine(DataInputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            sb.append((char) c);
        }
        if (c < 0 && sb.isEmpty()) {
            throw new IOException("the simulator closed the control connection without answering");
        }
        return sb.toString();
    }
}
