package io.cardnet.lab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.PrintStream;

/** Where commands write: human text on stdout, progress on stderr, or one JSON document for scripts. */
final class Output {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Output() {
    }

    static void json(PrintStream out, Object value) {
        try {
            out.println(JSON.writeValueAsString(value));
        } catch (Exception e) {
            throw new IllegalStateException("cannot render JSON: " + e.getMessage(), e);
        }
    }

    /** Progress lines go to stderr so that stdout stays clean for --json. */
    static void progress(String line) {
        System.err.println("cardnet: " + line);
    }

    /**
     * Progress for long work: on a terminal, lines starting with "[" (a step of a series, such as a benchmark
     * run) rewrite one live line in place, and other lines print above it; piped, every line is kept.
     */
    static java.util.function.Consumer<String> liveProgress() {
        if (System.console() == null) {
            return Output::progress;
        }
        return new java.util.function.Consumer<>() {
            private boolean live;

            @Override
            public void accept(String line) {
                if (line.startsWith("[")) {
                    System.err.print("\r\033[2Kcardnet: " + line);
                    live = true;
                } else {
                    System.err.print(live ? "\n" : "");
                    live = false;
                    System.err.println("cardnet: " + line);
                }
                System.err.flush();
            }
        };
    }
}
