package io.cardnet.netdev;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few libc functions this module needs, bound once through FFM.
 *
 * <p>Every call that can fail has errno captured by the linker into a per-thread slot right after
 * the call returns: by the time Java code could call {@code __errno_location} the JVM may have
 * overwritten the real value (GC, safepoints, class loading all run libc code on this thread). Read
 * it with {@link #errno()} on the same thread, before the next call.
 *
 * <p>Constants are the Linux values for x86_64, arm64 and riscv64.
 */
// Binding natives and sizing strerror's result are "restricted" FFM methods; this class is the one
// place that uses them, and the JVM runs with --enable-native-access.
@SuppressWarnings("restricted")
final class LibC {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = O_CLOEXEC;
    static final int EFD_NONBLOCK = O_NONBLOCK;
    static final int EFD_CLOEXEC = O_CLOEXEC;
    static final short POLLIN = 0x1;
    static final int CLONE_NEWNET = 0x40000000;
    static final int SPLICE_F_MOVE = 1;
    static final int SPLICE_F_NONBLOCK = 2;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final int F_SETPIPE_SZ = 1031;
    static final int SHUT_WR = 1;
    static final int SOL_SOCKET = 1;
    static final int SO_ERROR = 4;
    static final int SO_LINGER = 13;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout STATE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            STATE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    // Auto arena: the slot is freed by the GC when its thread is gone.
    private static final ThreadLocal<MemorySegment> STATE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(STATE_LAYOUT));

    // open(2) and ioctl(2) are variadic in C; on x86_64 a variadic call must set %al, so the
    // descriptors say where the variadic part starts.
    private static final MethodHandle OPEN = capturing("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = capturing("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle READ = capturing("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = capturing("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle IOCTL_PTR = capturing("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = capturing("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle POLL = capturing("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SOCKET = capturing("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PIPE2 = capturing("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SPLICE = capturing("splice",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    // fcntl(2) is variadic in C, like open and ioctl.
    private static final MethodHandle FCNTL_INT = capturing("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle SHUTDOWN = capturing("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = capturing("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = capturing("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETNS = capturing("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle EVENTFD = capturing("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MKFIFO = capturing("mkfifo", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SIGACTION = capturing("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGNAL = LINKER.downcallHandle(LOOKUP.find("signal").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
    // strerrordesc_np (glibc 2.32+) is the English text whatever the locale; plain strerror follows
    // LC_MESSAGES, which the JVM sets from the environment. Use the former when it exists.
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LOOKUP.find("strerrordesc_np").or(() -> LOOKUP.find("strerror")).orElseThrow(),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private LibC() {
    }

    /** {@code _IOW(type, nr, size)} in the asm-generic encoding (write direction = 1 in bits 30-31). */
    static long iow(char type, int nr, int size) {
        return (1L << 30) | ((long) size << 16) | ((long) type << 8) | nr;
    }

    /** errno of the last failed call made through this class on the current thread. */
    static int errno() {
        return (int) ERRNO.get(STATE.get(), 0L);
    }

    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            if (text.equals(MemorySegment.NULL)) {
                return "Unknown error " + errno;
            }
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int open(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(STATE.get(), arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(STATE.get(), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long read(int fd, MemorySegment buf, long count) {
        try {
            return (long) READ.invokeExact(STATE.get(), fd, buf, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long write(int fd, MemorySegment buf, long count) {
        try {
            return (long) WRITE.invokeExact(STATE.get(), fd, buf, count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl whose argument is a pointer to a struct or an int. */
    static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL_PTR.invokeExact(STATE.get(), fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl whose argument is passed by value (e.g. TUNSETOFFLOAD). */
    static int ioctl(int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(STATE.get(), fd, request, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int poll(MemorySegment fds, long nfds, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(STATE.get(), fds, nfds, timeoutMillis);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(STATE.get(), domain, type, protocol);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** pipe2(2) into {@code fds}: two ints, the read end then the write end. */
    static int pipe2(MemorySegment fds, int flags) {
        try {
            return (int) PIPE2.invokeExact(STATE.get(), fds, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** splice(2) between a socket and a pipe: neither has an offset, so both offset pointers are NULL. */
    static long splice(int in, int out, long len, int flags) {
        try {
            return (long) SPLICE.invokeExact(STATE.get(), in, MemorySegment.NULL, out, MemorySegment.NULL, len, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fcntl(2) whose argument is an int (F_DUPFD_CLOEXEC, F_SETPIPE_SZ). */
    static int fcntl(int fd, int cmd, int arg) {
        try {
            return (int) FCNTL_INT.invokeExact(STATE.get(), fd, cmd, arg);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(STATE.get(), fd, how);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int setsockopt(int fd, int level, int name, MemorySegment value) {
        try {
            return (int) SETSOCKOPT.invokeExact(STATE.get(), fd, level, name, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockopt(2) into {@code value}; {@code length} holds its size in and the option's length out. */
    static int getsockopt(int fd, int level, int name, MemorySegment value, MemorySegment length) {
        try {
            return (int) GETSOCKOPT.invokeExact(STATE.get(), fd, level, name, value, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int setns(int fd, int nstype) {
        try {
            return (int) SETNS.invokeExact(STATE.get(), fd, nstype);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int eventfd(int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(STATE.get(), initval, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static int mkfifo(String path, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) MKFIFO.invokeExact(STATE.get(), arena.allocateFrom(path), mode);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * True if {@code signo}'s disposition is SIG_IGN (1), read with sigaction(2) without changing it. The handler is
     * the first field of glibc's struct sigaction on every Linux ABI; 256 bytes hold the whole struct.
     */
    static boolean signalIgnored(int signo) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(256, 8);
            int r = (int) SIGACTION.invokeExact(STATE.get(), signo, MemorySegment.NULL, old);
            return r == 0 && old.get(ADDRESS, 0).address() == 1;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** signal(signo, SIG_DFL). */
    static void signalDefault(int signo) {
        try {
            MemorySegment ignored = (MemorySegment) SIGNAL.invokeExact(signo, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MethodHandle capturing(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no function " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    // invokeExact declares Throwable; the natives themselves throw nothing, so anything here is a
    // JVM-level problem (wrong handle type, OOM) and goes out unchecked.
    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
