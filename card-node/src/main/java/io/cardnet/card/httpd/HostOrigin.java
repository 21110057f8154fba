package io.cardnet.card.httpd;

import io.cardnet.link.http.FileMeta;
import io.cardnet.link.http.RequestPath;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The host's export seen from the card: a conditional GET across the bus on a kept-alive connection, the body
 * read in 1 MiB blocks straight into the cache file. A minimal HTTP/1.1 client on purpose: it only ever talks to
 * cardnet's own export (Content-Length bodies, no chunking), and the JDK's HttpClient cost the card ~5× the CPU
 * per byte for the same fetch.
 */
final class HostOrigin {
    private static final int BLOCK = 1 << 20;
    private static final int MAX_HEADERS = 16 << 10;
    /** A fetch whose connection moves no byte for this long is abandoned (502), never left hanging. */
    private static final long STALL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(15);

    private final InetSocketAddress address;
    private final String host;
    private final ConcurrentLinkedQueue<SocketChannel> idle = new ConcurrentLinkedQueue<>();
    /** 1 MiB blocks, one per fetch in progress (fetches run on virtual threads: no thread-locals). */
    private final ConcurrentLinkedQueue<ByteBuffer> buffers = new ConcurrentLinkedQueue<>();
    /** Connections in an exchange, with when each last moved: the watchdog closes stalled ones. */
    private final java.util.concurrent.ConcurrentHashMap<SocketChannel, Long> busy = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService watchdog =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("httpd-fetch-watchdog").factory());

    HostOrigin(URI origin) {
        this.address = new InetSocketAddress(origin.getHost(), origin.getPort() < 0 ? 80 : origin.getPort());
        this.host = origin.getHost() + (origin.getPort() < 0 ? "" : ":" + origin.getPort());
        watchdog.scheduleWithFixedDelay(this::closeStalled, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    private void closeStalled() {
        long now = System.nanoTime();
        busy.forEach((c, last) -> {
            if (now - last > STALL_NANOS) {
                close(c); // the blocked read fails with AsynchronousCloseException
            }
        });
    }

    /** Records that {@code c} moved bytes just now. */
    private void moved(SocketChannel c) {
        busy.replace(c, System.nanoTime());
    }

    /** What the host answered. */
    sealed interface Answer permits Body, NotModified, Refused {
    }

    /** The file, now in {@code file}. */
    record Body(Path file, FileMeta meta) implements Answer {
    }

    record NotModified() implements Answer {
    }

    /** The host's refusal (404, 403, 400...), passed on to the client. */
    record Refused(int status, String message) implements Answer {
    }

    /** Fetches {@code path}; with {@code etag} (from the cache) the host answers 304 if the file is unchanged. */
    Answer fetch(RequestPath path, String etag, Path into) throws IOException {
        SocketChannel kept = idle.poll();
        if (kept != null) {
            try {
                return exchange(kept, path, etag, into);
            } catch (StaleConnection e) {
                close(kept); // the host closed an idle connection: ask again on a new one
            } catch (IOException | RuntimeException e) {
                close(kept);
                throw e;
            }
        }
        SocketChannel fresh = SocketChannel.open();
        try {
            fresh.setOption(StandardSocketOptions.TCP_NODELAY, true);
            fresh.connect(address);
            return exchange(fresh, path, etag, into);
        } catch (StaleConnection e) {
            close(fresh);
            throw new IOException("the host's export at " + host + " closed the connection without answering");
        } catch (IOException | RuntimeException e) {
            close(fresh);
            throw e;
        }
    }

    /** The connection ended (closed or reset) before the first byte of an answer: safe to ask again. */
    private static final class StaleConnection extends IOException {
    }

    private Answer exchange(SocketChannel c, RequestPath path, String etag, Path into) throws IOException {
        String request = "GET " + path.target() + " HTTP/1.1\r\nHost: " + host + "\r\n"
                + (etag == null ? "" : "If-None-Match: " + etag + "\r\n") + "\r\n";
        ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
        try {
            while (out.hasRemaining()) {
                c.write(out);
            }
        } catch (IOException e) {
            throw new StaleConnection(); // e.g. a kept connection that host-bridge's restart reset
        }
        ByteBuffer buf = buffers.poll();
        buf = buf == null ? ByteBuffer.allocateDirect(BLOCK) : buf.clear();
        busy.put(c, System.nanoTime());
        try {
            return answer(c, path, into, buf);
        } finally {
            busy.remove(c);
            buffers.offer(buf);
        }
    }

    private Answer answer(SocketChannel c, RequestPath path, Path into, ByteBuffer buf) throws IOException {
        int end = readHeaders(c, buf);
        Map<String, String> headers = new HashMap<>();
        String[] lines = StandardCharsets.ISO_8859_1.decode(buf.duplicate().flip().limit(end)).toString().split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        int status = Integer.parseInt(statusLine[1]);
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
        }
        long length = Long.parseLong(headers.getOrDefault("content-length", "0"));
        buf.flip().position(end + 4); // what came after the headers: the body's first bytes
        Answer answer;
        if (status == 200) {
            try (FileChannel file = FileChannel.open(into, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                copyBody(c, buf, length, file);
            }
            String tag = headers.get("etag");
            if (tag == null) {
                throw new IOException("the host's answer for " + path + " has no ETag");
            }
            long modified = headers.containsKey("last-modified") ? ZonedDateTime.parse(headers.get("last-modified"),
                    DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli() : 0;
            answer = new Body(into, new FileMeta(length, tag, modified));
        } else {
            copyBody(c, buf, length, null);
            answer = status == 304 ? new NotModified()
                    : new Refused(status, "the host's export answered " + lines[0].substring(9) + " for " + path);
        }
        if ("close".equalsIgnoreCase(headers.get("connection"))) {
            close(c);
        } else {
            idle.offer(c);
        }
        return answer;
    }

    /** Reads until the end of the headers; returns where the blank line starts. */
    private int readHeaders(SocketChannel c, ByteBuffer buf) throws IOException {
        int scanned = 0;
        while (true) {
            int n;
            try {
                n = c.read(buf);
            } catch (IOException e) {
                if (buf.position() == 0) {
                    throw new StaleConnection();
                }
                throw e;
            }
            moved(c);
            if (n < 0) {
                if (buf.position() == 0) {
                    throw new StaleConnection();
                }
                throw new IOException("the host's export closed the connection in the middle of its headers");
            }
            for (int i = Math.max(0, scanned - 3); i + 3 < buf.position(); i++) {
                if (buf.get(i) == '\r' && buf.get(i + 1) == '\n' && buf.get(i + 2) == '\r' && buf.get(i + 3) == '\n') {
                    return i;
                }
            }
            scanned = buf.position();
            if (scanned >= MAX_HEADERS) {
                throw new IOException("the host's export sent more than " + MAX_HEADERS + " bytes of headers");
            }
        }
    }

    /** The body's {@code length} bytes: those already in {@code buf}, then the rest from the socket; into {@code file}, or dropped. */
    private void copyBody(SocketChannel c, ByteBuffer buf, long length, FileChannel file) throws IOException {
        long left = length;
        while (left > 0) {
            if (!buf.hasRemaining()) {
                buf.clear().limit((int) Math.min(buf.capacity(), left));
                if (c.read(buf) < 0) {
                    throw new IOException("the host's export closed the connection " + left + " bytes before the end of a body");
                }
                moved(c);
                buf.flip();
            }
            if (buf.remaining() > left) {
                throw new IOException("the host's export sent more than its Content-Length");
            }
            left -= buf.remaining();
            while (buf.hasRemaining()) {
                if (file != null) {
                    file.write(buf);
                } else {
                    buf.position(buf.limit());
                }
            }
        }
    }

    private static void close(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // already gone
        }
    }

    void close() {
        watchdog.shutdownNow();
        for (SocketChannel c; (c = idle.poll()) != null; ) {
            close(c);
        }
    }
}
