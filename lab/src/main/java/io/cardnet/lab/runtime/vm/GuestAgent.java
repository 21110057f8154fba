package io.cardnet.lab.runtime.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cardnet.lab.runtime.ExecResult;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * `cardnet card exec` into a card VM: QEMU's guest agent (qemu-ga, Debian's qemu-guest-agent in the card's image)
 * on a virtio-serial port, reached through its socket in the lab's run directory. One command:
 * {@code guest-sync-delimited} (so a reply left over from an earlier client is skipped), {@code guest-exec} with
 * captured output, then {@code guest-exec-status} until it exits. The agent serves one client at a time; QEMU
 * queues the next connection, so concurrent callers simply take turns. Every read has the call's deadline.
 */
public final class GuestAgent {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte SYNC_DELIMITER = (byte) 0xff;

    private final Path socket;

    public GuestAgent(Path socket) {
        this.socket = socket;
    }

    /** Runs {@code argv} in the guest (PATH is the agent's); the deadline covers connecting, running and output. */
    public ExecResult exec(List<String> argv, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Session s = new Session(socket, deadline)) {
            s.sync();
            Map<String, Object> args = new LinkedHashMap<>();
            args.put("path", argv.getFirst());
            args.put("arg", argv.subList(1, argv.size()));
            args.put("capture-output", true);
            long pid;
            try {
                pid = s.call("guest-exec", args).path("pid").asLong(-1);
            } catch (AgentRefused e) {
                // the program could not be started (not installed, not executable): what a shell says, 127
                return new ExecResult(127, "", "cardnet: on the card: " + e.getMessage());
            }
            if (pid < 0) {
                throw new IOException("the card's guest agent started no process for `" + String.join(" ", argv) + "`");
            }
            while (true) {
                JsonNode st = s.call("guest-exec-status", Map.of("pid", pid));
                if (st.path("exited").asBoolean()) {
                    String out = decode(st.path("out-data"));
                    String err = decode(st.path("err-data"));
                    if (st.path("out-truncated").asBoolean() || st.path("err-truncated").asBoolean()) {
                        err += "\n(cardnet: the guest agent truncated this command's output)";
                    }
                    int code = st.has("exitcode") ? st.path("exitcode").asInt() : 128 + st.path("signal").asInt();
                    return new ExecResult(code, out, err);
                }
                if (System.nanoTime() > deadline) {
                    return new ExecResult(ExecResult.TIMED_OUT, "", "`" + String.join(" ", argv)
                            + "` did not finish on the card within " + timeout.toMillis() + " ms (it keeps running there)");
                }
                sleep(20);
            }
        }
    }

    /** True if the agent answers a sync within {@code timeout}: the card's userland is up. */
    public boolean answers(Duration timeout) {
        try (Session s = new Session(socket, System.nanoTime() + timeout.toNanos())) {
            s.sync();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String decode(JsonNode b64) {
        return b64.isMissingNode() || b64.isNull() ? "" : new String(Base64.getDecoder().decode(b64.asText()), StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** The agent answered with an error (it is up; the request was refused). */
    private static final class AgentRefused extends IOException {
        AgentRefused(String message) {
            super(message);
        }
    }

    /** One connection: requests written whole, replies read line by line, each read bounded by the deadline. */
    private static final class Session implements AutoCloseable {
        private final SocketChannel channel;
        private final Selector selector;
        private final long deadline;
        private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Session(Path socket, long deadline) throws IOException {
            this.deadline = deadline;
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                ch.configureBlocking(false);
                this.selector = Selector.open();
                ch.register(selector, SelectionKey.OP_READ);
            } catch (IOException e) {
                ch.close();
                throw new IOException("the card's guest agent socket " + socket + " does not answer (" + e.getMessage()
                        + "): is the card VM running? `cardnet lab status`", e);
            }
            this.channel = ch;
            in.flip();
        }

        void sync() throws IOException {
            long id = ThreadLocalRandom.current().nextLong(1, Integer.MAX_VALUE);
            write(new byte[]{SYNC_DELIMITER});
            write(JSON.writeValueAsBytes(Map.of("execute", "guest-sync-delimited", "arguments", Map.of("id", id))));
            while (true) {
                // skip everything up to the agent's delimiter: replies meant for an earlier client
                int b = readByte("the card's guest agent did not answer a sync (is the card booted? `cardnet card console`)");
                if (b == (SYNC_DELIMITER & 0xff)) {
                    JsonNode r = JSON.readTree(readLine("sync"));
                    if (r.path("return").asLong() == id) {
                        return;
                    }
                }
            }
        }

        JsonNode call(String command, Object arguments) throws IOException {
            write(JSON.writeValueAsBytes(Map.of("execute", command, "arguments", arguments)));
            while (true) {
                JsonNode r = JSON.readTree(readLine(command));
                if (r.has("error")) {
                    throw new AgentRefused(command + ": " + r.path("error").path("desc").asText(r.path("error").toString()));
                }
                if (r.has("return")) {
                    return r.path("return");
                }
            }
        }

        private void write(byte[] bytes) throws IOException {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                channel.write(b);
            }
            if (bytes.length > 1) {
                channel.write(ByteBuffer.wrap(new byte[]{'\n'}));
            }
        }

        private String readLine(String what) throws IOException {
            line.reset();
            while (true) {
                int b = readByte("the card's guest agent did not answer " + what + " in time");
                if (b == '\n') {
                    return line.toString(StandardCharsets.UTF_8);
                }
                line.write(b);
            }
        }

        private int readByte(String onTimeout) throws IOException {
            while (!in.hasRemaining()) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new IOException(onTimeout);
                }
                selector.select(left);
                selector.selectedKeys().clear();
                in.clear();
                int n = channel.read(in);
                in.flip();
                if (n < 0) {
                    throw new IOException("the card's guest agent closed the connection");
                }
            }
            return in.get() & 0xff;
        }

        @Override
        public void close() throws IOException {
            selector.close();
            channel.close();
        }
    }
}
