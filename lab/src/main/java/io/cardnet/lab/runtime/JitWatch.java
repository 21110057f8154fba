package io.cardnet.lab.runtime;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How much each lab JVM has compiled so far: its metrics server's {@code /jit} (the JIT's total compile time, in
 * ms). The warm-up calls the data path compiled once every JVM's figure stops growing under traffic. Asked from the
 * host side's namespace, where the simulator's and host-bridge's metrics listen and the card's is reached across
 * the link.
 */
final class JitWatch {
    private final Lab lab;
    private final Map<String, InetSocketAddress> servers = new LinkedHashMap<>();

    JitWatch(Lab lab) {
        this.lab = lab;
        lab.state().metrics().forEach((component, url) -> {
            URI u = URI.create(url);
            servers.put(component, new InetSocketAddress(u.getHost(), u.getPort()));
        });
    }

    /** Each JVM's compile time in ms; a JVM that does not answer (an older card image, a busy link) is absent. */
    Map<String, Long> sample() {
        Map<String, Long> ms = new LinkedHashMap<>();
        servers.forEach((component, at) -> {
            try {
                ms.put(component, compileMillis(at));
            } catch (Exception e) {
                // absent: the caller falls back to the throughput criterion
            }
        });
        return ms;
    }

    private long compileMillis(InetSocketAddress at) throws Exception {
        try (SocketChannel ch = lab.onHostSide(() -> {
            SocketChannel c = SocketChannel.open();
            c.socket().connect(at, 1000);
            return c;
        })) {
            ch.socket().setSoTimeout(1000);
            ch.write(ByteBuffer.wrap("GET /jit HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            byte[] body = ch.socket().getInputStream().readAllBytes();
            String text = new String(body, StandardCharsets.US_ASCII);
            int at0 = text.indexOf("compile_ms ");
            if (!text.startsWith("HTTP/1.1 200") || at0 < 0) {
                throw new IOException("no compile time in " + text.lines().findFirst().orElse(""));
            }
            return Long.parseLong(text.substring(at0 + "compile_ms ".length()).strip());
        }
    }
}
