package io.cardnet.card.services;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a sink answers when the sender half-closes: how many payload bytes arrived, which check it ran over them,
 * and that check's value. On the wire it is one JSON line named by the check, {@code {"bytes":N,"crc32c":"hex"}}
 * or {@code {"bytes":N,"sha256":"hex"}} (the format sinks always answered with), so {@code nc} users read it too.
 */
public record TransferReport(long bytes, IntegrityCheck check, String value) {
    private static final Pattern LINE = Pattern.compile("\\{\"bytes\":(\\d+),\"(crc32c|sha256)\":\"([0-9a-f]+)\"}");

    public TransferReport {
        if (value.length() != check.hexDigits()) {
            throw new IllegalArgumentException("a " + check.id() + " value has " + check.hexDigits()
                    + " hex digits, not " + value.length() + ": '" + value + "'");
        }
    }

    /** True if this report is of the same bytes a sender counted and checked with the same check. */
    public boolean agrees(long sentBytes, IntegrityCheck sentCheck, String sentValue) {
        return bytes == sentBytes && check == sentCheck && value.equals(sentValue);
    }

    public String toJsonLine() {
        return "{\"bytes\":" + bytes + ",\"" + check.id() + "\":\"" + value + "\"}\n";
    }

    /**
     * The sender's side of the exchange: half-closes {@code ch} (the sink's cue) and reads the sink's report.
     * {@code sink} and {@code sent} only name what went wrong if no report comes.
     */
    public static TransferReport awaitFrom(SocketChannel ch, Object sink, long sent) throws IOException {
        ch.shutdownOutput();
        String line = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.US_ASCII))
                .readLine();
        if (line == null) {
            throw new IOException("the sink at " + sink + " closed without a report after " + sent + " bytes");
        }
        return parse(line);
    }

    public static TransferReport parse(String line) {
        Matcher m = LINE.matcher(line.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a sink report: '" + line.trim() + "'");
        }
        return new TransferReport(Long.parseLong(m.group(1)), IntegrityCheck.parse(m.group(2)), m.group(3));
    }

    @Override
    public String toString() {
        return bytes + " bytes, " + check.id() + " " + value;
    }
}
