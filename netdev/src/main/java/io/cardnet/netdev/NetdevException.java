package io.cardnet.netdev;

import java.io.IOException;

/**
 * A failed system call on a network device, namespace or TUN, with what to do about it.
 *
 * <p>The message reads {@code <operation>: <strerror text> (<ERRNO>): <fix>}, for example
 * {@code TUNSETIFF toe0: Operation not permitted (EPERM): needs root or CAP_NET_ADMIN}, so that a
 * user who only sees the log line knows both what failed and how to fix it.
 */
public final class NetdevException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String operation;

    /**
     * @param operation what was attempted, naming its object, e.g. {@code "TUNSETIFF toe0"}
     * @param errno the Linux errno
     * @param hint how to fix it, or {@code null} when there is nothing useful to say
     */
    public NetdevException(String operation, int errno, String hint) {
        super(message(operation, errno, hint));
        this.errno = errno;
        this.operation = operation;
    }

    public int errno() {
        return errno;
    }

    /** Symbolic name such as {@code "EPERM"}. */
    public String errnoName() {
        return Errno.name(errno);
    }

    /** What was attempted, e.g. {@code "TUNSETIFF toe0"}. */
    public String operation() {
        return operation;
    }

    private static String message(String operation, int errno, String hint) {
        String text = operation + ": " + LibC.strerror(errno) + " (" + Errno.name(errno) + ")";
        return hint == null || hint.isEmpty() ? text : text + ": " + hint;
    }
}
