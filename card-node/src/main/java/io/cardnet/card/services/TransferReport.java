package io.cardnet.card.services;

import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a sink answers when the sender half-closes: how many bytes arrived and their SHA-256.
 * On the wire it is one JSON line, {@code {"bytes":N,"sha256":"hex"}}, so {@code nc} users can read it too.
 */
public record TransferReport(long bytes, String sha256) {
    private static final Pattern LINE = Pattern.compile("\\{\"bytes\":(\\d+),\"sha256\":\"([0-9a-f]{64})\"}");

    public static TransferReport of(long bytes, byte[] digest) {
        return new TransferReport(bytes, HexFormat.of().formatHex(digest));
    }

    public String toJsonLine() {
        return "{\"bytes\":" + bytes + ",\"sha256\":\"" + sha256 + "\"}\n";
    }

    /**
     * The sender's side of the exchange: half-closes {@code ch} (the sink's cue) and reads the sink's report.
     * {@code sink} and {@code sent} only name what went wrong if no report comes.
     */
    public static TransferReport awaitFrom(java.nio.channels.SocketChannel ch, Object sink, long sent)
            throws java.io.IOException {
        ch.shutdownOutput();
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(java.nio.channels.Channels.newInputStream(ch),
                java.nio.charset.StandardCharsets.US_ASCII)).readLine();
        if (line == null) {
            throw new java.io.IOException("the sink at " + sink + " closed without a report after " + sent + " bytes");
        }
        return parse(line);
    }

    public static TransferReport parse(String line) {
        Matcher m = LINE.matcher(line.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a sink report: '" + line.trim() + "'");
        }
        return new TransferReport(Long.parseLong(m.group(1)), m.group(2));
    }
}
