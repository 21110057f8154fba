package io.cardnet.lab.runtime;

/** A lab operation that cannot go on; the message says what was wrong and what to do. */
public final class LabException extends RuntimeException {
    public LabException(String message) {
        super(message);
    }
}
