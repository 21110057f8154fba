package io.cardnet.lab.soak;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The lab's logs over the soak: every WARN or ERROR line a process wrote while it ran, each explained by a
 * disturbance the soak caused, or not. A line is explained only if it was written within that disturbance's window
 * (from a second before it began until a few seconds after the link was back) <em>and</em> says what such a
 * disturbance makes the lab say: a link going down and retraining, heartbeats missed while it was down, a bus
 * connection closed and opened again, a doorbell or RX_DONE of the epoch just before the retrain refused, and for
 * the card's restart its JVM starting. Anything else (an ERROR, a
 * dropped malformed frame, a refused descriptor, a bit flip escaping the CRC) is unexplained whenever it happens.
 */
final class LogAudit {
    /** Lines about the link going down and coming back: any disturbance can retrain the link. */
    static final Pattern LINK_CYCLE = Pattern.compile("link down|missed (its )?heartbeats|has been silent"
            + "|reconnecting|bus connection (lost|error)|Broken pipe|Connection reset|went away|closing this connection"
            + "|link flap \\(injected\\)");
    /** A JVM starting (Netty finds no MAC address in the card's namespace) or stopping, for the card's restart. */
    static final Pattern RESTART = Pattern.compile("MacAddressUtil|closing \\S+: ");
    /**
     * A doorbell or RX_DONE an end sent in the epoch just before a retrain, which reached the simulator after it:
     * refused and counted, as it must be, but in flight across the retrain, not a fault.
     */
    static final Pattern PREVIOUS_EPOCH = Pattern.compile("of epoch (\\d+) while the link runs epoch (\\d+)");
    static final long BEFORE_MILLIS = 1_000;
    static final long AFTER_MILLIS = 5_000;

    private static final Pattern LINE = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d+) (WARN|ERROR) (.*)$");

    /** A WARN/ERROR line: which process, ms after the soak began, the text. */
    record Line(String process, long atMillis, String text) {
    }

    /**
     * @param total       WARN/ERROR lines written during the soak
     * @param byCause     how many each kind of disturbance explains
     * @param unexplained the lines nothing the soak did explains
     */
    record Result(int total, int explained, Map<String, Integer> byCause, List<Line> unexplained) {
    }

    private final Map<String, Path> logs;
    private final Map<String, Long> offsets = new LinkedHashMap<>();

    /** Remembers how long each log is now: the soak reads only what comes after. */
    LogAudit(Map<String, Path> logs) {
        this.logs = logs;
        logs.forEach((process, log) -> {
            try {
                offsets.put(process, Files.exists(log) ? Files.size(log) : 0L);
            } catch (IOException e) {
                offsets.put(process, 0L);
            }
        });
    }

    /** The WARN/ERROR lines written since construction, with times relative to {@code startWallMillis}. */
    List<Line> linesSince(long startWallMillis) {
        List<Line> out = new ArrayList<>();
        logs.forEach((process, log) -> {
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                f.seek(Math.min(offsets.get(process), f.length()));
                byte[] rest = new byte[(int) Math.min(Integer.MAX_VALUE - 8, f.length() - f.getFilePointer())];
                f.readFully(rest);
                for (String line : new String(rest, StandardCharsets.UTF_8).split("\n")) {
                    var m = LINE.matcher(line);
                    if (m.matches()) {
                        long at = wallMillis(m.group(1));
                        out.add(new Line(process, at < 0 ? -1 : at - startWallMillis, m.group(2) + " " + m.group(3)));
                    }
                }
            } catch (IOException e) {
                out.add(new Line(process, -1, "ERROR the soak could not read " + log + ": " + e.getMessage()));
            }
        });
        return out;
    }

    /** Sorts every line into explained (by which disturbance) or not. */
    static Result classify(List<Line> lines, List<SoakReport.Event> events) {
        Map<String, Integer> byCause = new TreeMap<>();
        List<Line> unexplained = new ArrayList<>();
        for (Line l : lines) {
            String cause = cause(l, events);
            if (cause == null) {
                unexplained.add(l);
            } else {
                byCause.merge(cause, 1, Integer::sum);
            }
        }
        return new Result(lines.size(), lines.size() - unexplained.size(), byCause, unexplained);
    }

    private static String cause(Line l, List<SoakReport.Event> events) {
        if (l.text().startsWith("ERROR")) {
            return null;
        }
        for (SoakReport.Event e : events) {
            long end = Math.max(e.startMillis(), e.settledMillis());
            if (l.atMillis() < e.startMillis() - BEFORE_MILLIS || l.atMillis() > end + AFTER_MILLIS) {
                continue;
            }
            if (LINK_CYCLE.matcher(l.text()).find() || sentBeforeTheRetrain(l.text())
                    || e.kind().equals("card restart") && RESTART.matcher(l.text()).find()) {
                return e.kind();
            }
        }
        return null;
    }

    /** True for a notification refused for its epoch when that epoch is the one just before the link's. */
    static boolean sentBeforeTheRetrain(String text) {
        var m = PREVIOUS_EPOCH.matcher(text);
        return m.find() && Long.parseLong(m.group(2)) == Long.parseLong(m.group(1)) + 1;
    }

    /** The log's local timestamp as epoch ms; -1 if it cannot be read. */
    private static long wallMillis(String stamp) {
        try {
            return LocalDateTime.parse(stamp).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            return -1;
        }
    }
}
