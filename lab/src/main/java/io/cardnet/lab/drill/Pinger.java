package io.cardnet.lab.drill;

import io.cardnet.lab.runtime.Shell;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real {@code ping} every 10 ms through the drill, with the kernel's timestamps ({@code -D}): the longest gap
 * between replies is the outage the host saw, and the first reply after the swap is "first packet through".
 */
public final class Pinger implements AutoCloseable {
    public static final long INTERVAL_MILLIS = 10;
    private static final Pattern REPLY = Pattern.compile("^\\[(\\d+\\.\\d+)\\].*icmp_seq=(\\d+)");

    private final Process process;
    private final Thread reader;
    private final List<long[]> replies = new ArrayList<>();
    private final List<long[]> unanswered = new ArrayList<>();
    private volatile long lastSeq;

    private Pinger(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().name("drill-ping").start(this::read);
    }

    /** Pings {@code address} from namespace {@code ns} (null: this one) until closed. */
    public static Pinger start(String ns, String address) throws IOException {
        List<String> cmd = List.of("ping", "-n", "-D", "-O", "-i", Double.toString(INTERVAL_MILLIS / 1000.0), "-W", "1", address);
        return new Pinger(new ProcessBuilder(Shell.inNamespace(ns, cmd)).redirectErrorStream(true).start());
    }

    private void read() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                Matcher m = REPLY.matcher(line);
                if (m.find()) {
                    long seq = Long.parseLong(m.group(2));
                    long atMillis = (long) (Double.parseDouble(m.group(1)) * 1000);
                    synchronized (replies) {
                        (line.contains("bytes from") ? replies : unanswered).add(new long[]{atMillis, seq});
                    }
                    // -O also prints "no answer yet for icmp_seq=N": either way N was sent
                    lastSeq = Math.max(lastSeq, seq);
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** Replies so far: {wall-clock millis, icmp_seq}. */
    public List<long[]> replies() {
        synchronized (replies) {
            return List.copyOf(replies);
        }
    }

    /**
     * Echo requests not answered within the interval: {wall-clock millis when ping said so, icmp_seq}. A late reply
     * may still come; one that never does was lost, around this time.
     */
    public List<long[]> unanswered() {
        synchronized (replies) {
            return List.copyOf(unanswered);
        }
    }

    /** Echo requests sent so far: the highest sequence answered or reported unanswered ({@code -O}). */
    public long sent() {
        return lastSeq;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor();
        reader.join(2_000);
    }
}
