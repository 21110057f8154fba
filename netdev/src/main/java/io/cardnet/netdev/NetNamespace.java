package io.cardnet.netdev;

import java.lang.reflect.UndeclaredThrowableException;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code inside a named network namespace ({@code /run/netns/<name>}, as made by
 * {@code ip netns add}).
 *
 * <p>setns(2) moves only the calling thread, so each entry gets its own new platform thread: the
 * caller's thread, and any pooled or virtual-thread carrier, stays where it was. Sockets, TUN
 * devices and {@link NetInterface} calls made on that thread act in the namespace, and a socket or
 * TUN keeps living there whatever thread later uses it. Threads started from inside inherit the
 * namespace; pooled threads (ForkJoinPool, HTTP clients...) created there or elsewhere are not
 * guaranteed to, so do namespace-bound setup on the thread itself.
 */
public final class NetNamespace {
    private static final String NETNS_DIR = "/run/netns/";

    private NetNamespace() {
    }

    /**
     * Runs {@code work} on a new platform thread inside namespace {@code name} and returns its
     * result, or rethrows what it threw. If the caller is interrupted while waiting, the worker is
     * interrupted too and InterruptedException is thrown.
     *
     * @throws NetdevException if the namespace does not exist or cannot be entered
     */
    public static <T> T call(String name, Callable<T> work) throws Exception {
        Objects.requireNonNull(work, "work");
        int nsFd = openNamespace(name);
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread worker = Thread.ofPlatform().name("netns-" + name).unstarted(() -> {
            try {
                enter(nsFd, name);
                result.set(work.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        try {
            worker.start();
        } catch (RuntimeException | Error e) {
            LibC.close(nsFd);
            throw e;
        }
        try {
            worker.join();
        } catch (InterruptedException e) {
            worker.interrupt();
            throw e;
        }
        Throwable t = failure.get();
        if (t == null) {
            return result.get();
        }
        if (t instanceof Exception e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new UndeclaredThrowableException(t);
    }

    /**
     * Starts a long-lived, non-daemon platform thread that enters namespace {@code name} and then
     * runs {@code body} (for example a TUN reader loop). Returns once the thread is inside the
     * namespace.
     *
     * @throws NetdevException if the namespace does not exist or cannot be entered; the thread has
     *     then already ended without running {@code body}
     */
    public static Thread startThread(String name, String threadName, Runnable body) throws NetdevException {
        Objects.requireNonNull(body, "body");
        int nsFd = openNamespace(name);
        CountDownLatch entered = new CountDownLatch(1);
        AtomicReference<NetdevException> failure = new AtomicReference<>();
        Thread thread = Thread.ofPlatform().name(threadName).daemon(false).unstarted(() -> {
            try {
                enter(nsFd, name);
            } catch (NetdevException e) {
                failure.set(e);
                return;
            } finally {
                entered.countDown();
            }
            body.run();
        });
        try {
            thread.start();
        } catch (RuntimeException | Error e) {
            LibC.close(nsFd);
            throw e;
        }
        // setns takes microseconds; wait for it uninterruptibly so the caller learns the outcome.
        boolean interrupted = false;
        while (true) {
            try {
                entered.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return thread;
    }

    private static int openNamespace(String name) throws NetdevException {
        Objects.requireNonNull(name, "name");
        String path = NETNS_DIR + name;
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\0') >= 0) {
            throw new NetdevException("open " + path, Errno.EINVAL,
                    "'" + name + "' is not a valid network namespace name");
        }
        int fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC);
        if (fd < 0) {
            int e = LibC.errno();
            throw new NetdevException("open " + path, e, switch (e) {
                case Errno.ENOENT -> "no network namespace named " + name + " (see `ip netns list`)";
                case Errno.EPERM, Errno.EACCES -> "needs root to open " + path;
                default -> null;
            });
        }
        return fd;
    }

    /** On the new thread: join the namespace, then drop the fd (the thread now holds the namespace). */
    private static void enter(int nsFd, String name) throws NetdevException {
        try {
            if (LibC.setns(nsFd, LibC.CLONE_NEWNET) < 0) {
                int e = LibC.errno();
                throw new NetdevException("setns " + name, e, switch (e) {
                    case Errno.EPERM -> "needs root or CAP_SYS_ADMIN";
                    case Errno.EINVAL -> NETNS_DIR + name + " is not a network namespace (a stale file whose"
                            + " mount is gone?); recreate it with `ip netns add " + name + "`";
                    default -> null;
                });
            }
        } finally {
            LibC.close(nsFd);
        }
    }
}
