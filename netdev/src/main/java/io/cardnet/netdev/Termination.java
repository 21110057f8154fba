package io.cardnet.netdev;

import java.util.ArrayList;
import java.util.List;

/**
 * Makes INT, TERM and HUP end this JVM through its shutdown hooks (a lab's teardown, a capture's last block) however
 * the process was started.
 *
 * <p>Why it is needed: a shell without job control starts background commands with SIGINT ignored, `nohup` ignores
 * SIGHUP, and the JVM keeps an inherited SIG_IGN rather than installing its own handler. So `cardnet lab up &` in a
 * script, or `cardnet link capture` started by one, would shrug off `kill -INT` and leave a lab running. Here an
 * ignored one of the three is set back to the default and then handled like the JVM handles the others: exit
 * status 128 + the signal's number, shutdown hooks first.
 */
public final class Termination {
    /** The signals that end a cardnet command: Ctrl-C, kill's default, a closed terminal. */
    public static final List<String> SIGNALS = List.of("INT", "TERM", "HUP");
    private static final java.util.Map<String, Integer> NUMBERS = java.util.Map.of("HUP", 1, "INT", 2, "TERM", 15);

    private Termination() {
    }

    /**
     * Handles each of {@link #SIGNALS} that this process inherited as ignored; returns their names (empty when
     * none were). The ones the JVM already handles are left alone.
     */
    @SuppressWarnings("restriction")
    public static List<String> honourAll() {
        List<String> restored = new ArrayList<>();
        for (String name : SIGNALS) {
            int number = NUMBERS.get(name);
            if (!LibC.signalIgnored(number)) {
                continue;
            }
            LibC.signalDefault(number);
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> exit(128 + s.getNumber()));
            restored.add(name);
        }
        return restored;
    }

    private static void exit(int status) {
        // off the signal dispatcher, as the JVM's own handler does: hooks may take seconds (a lab's teardown)
        Thread.ofPlatform().name("cardnet-termination").start(() -> System.exit(status));
    }
}
