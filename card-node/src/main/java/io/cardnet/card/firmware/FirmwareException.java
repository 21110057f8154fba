package io.cardnet.card.firmware;

import java.nio.file.Path;

/** A firmware directory that cannot run, with the file and line at fault. */
public final class FirmwareException extends Exception {
    private final Path file;
    private final int line;

    public FirmwareException(Path file, int line, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + message);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** 1-based; 0 when the fault is the file as a whole. */
    public int line() {
        return line;
    }
}
