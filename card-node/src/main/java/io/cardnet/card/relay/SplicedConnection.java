package io.cardnet.card.relay;

import io.cardnet.netdev.NetdevException;
import io.cardnet.netdev.SocketFd;
import io.cardnet.netdev.SplicePipe;
import io.micrometer.core.instrument.Counter;
import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.UnixChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.MemorySegment;

/**
 * A joined pair whose bytes move by splice(2): each direction is socket → pipe → socket inside the card's kernel, so
 * no byte is read into user space. What the relay promises is kept: a FIN is passed on as a shutdown of the other
 * socket's output once the pipe has given it every byte before the FIN (the other direction keeps flowing); a reset or
 * any error on either socket resets both (SO_LINGER 0); the pair closes when both ways have ended.
 *
 * <p>Why not Netty's {@code spliceTo} (as read in 4.2.18's code): it splices until the pipe is full or the socket is
 * empty and then, if the FIN has arrived (EPOLLRDHUP), shuts the input down and passes the end of stream on, whatever
 * is still queued in the socket: a bulk transfer whose receiver is slower than its sender would lose its tail. And it has no end-of-stream
 * or reset semantics of its own. So the relay takes its own descriptor of each socket (the Netty channels are closed:
 * the sockets live on through these), and registers them with the same epoll event loop through Netty 4.2's
 * {@link EpollIoHandle}: all state stays on that one thread, as before, with no locks.
 *
 * <p>Edge-triggered (EPOLLET), interest never changed: each socket is registered once for input, output and the
 * peer's FIN. A direction moves until its source has nothing (EAGAIN: the next segment is a new edge) or its
 * destination is full (EAGAIN: the next freed space is a new edge), so every stop has an edge that resumes it; a
 * level-triggered registration would instead wake the loop again and again for a readable socket whose peer is full,
 * or a HUP no one can clear. A direction that keeps moving yields after {@link #ROUNDS_PER_TURN} rounds and goes on
 * from a task, so one fast connection does not hold up the others.
 */
final class SplicedConnection {
    private static final Logger log = LoggerFactory.getLogger(SplicedConnection.class);
    /**
     * Pipe size per direction: four times the kernel's default, so one call moves up to four 64K segments across the
     * bus. A kernel that refuses keeps 64 KiB ({@link SplicePipe#open}).
     */
    private static final int PIPE_BYTES = 256 << 10;
    private static final int ROUNDS_PER_TURN = 16;
    /** What is read, not spliced, past an urgent mark (splice goes on after it). */
    private static final int URGENT_READ = 4096;
    private static final EpollIoOps INTEREST = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT).with(EpollIoOps.EPOLLRDHUP)
            .with(EpollIoOps.EPOLLET);
    /** epoll(7)'s EPOLLHUP (the same on every Linux architecture), which Netty's EpollIoOps does not name. */
    private static final int EPOLLHUP = 0x010;

    private final IoEventLoop loop;
    private final RelayCounters counters;
    private final Runnable release;
    private final String name;
    private final End host;
    private final End wire;
    private final Direction fromHost;
    private final Direction fromWire;
    private boolean finished;

    private SplicedConnection(IoEventLoop loop, RelayCounters counters, Runnable release, String name, int hostFd,
                              int wireFd, SplicePipe up, SplicePipe down, MemorySegment early) {
        this.loop = loop;
        this.counters = counters;
        this.release = release;
        this.name = name;
        this.host = new End("host", hostFd);
        this.wire = new End("wire", wireFd);
        this.fromHost = new Direction(host, wire, up, counters.fromHost, early);
        this.fromWire = new Direction(wire, host, down, counters.fromWire, null);
        host.out = fromHost;
        host.in = fromWire;
        wire.out = fromWire;
        wire.in = fromHost;
    }

    /**
     * Takes the pair over from Netty, on its event loop: its own descriptors of both sockets, two pipes, the Netty
     * channels closed, both sockets registered with the loop. {@code early} (native memory, or null) is what the host
     * sent before the onward connection was up, already read into user space: it goes first, copied into the pipe.
     * {@code release} runs once, when the pair is gone. Throws, with the Netty channels untouched, if a descriptor or
     * a pipe could not be had (the caller resets the pair).
     */
    static void takeOver(Channel hostChannel, Channel wireChannel, MemorySegment early, RelayCounters counters,
                            Runnable release) throws NetdevException {
        int hostFd = SocketFd.duplicate(((UnixChannel) hostChannel).fd().intValue());
        int wireFd = -1;
        SplicePipe up = null;
        try {
            wireFd = SocketFd.duplicate(((UnixChannel) wireChannel).fd().intValue());
            up = SplicePipe.open(PIPE_BYTES);
            SplicePipe down = SplicePipe.open(PIPE_BYTES);
            String name = hostChannel.remoteAddress() + " → " + hostChannel.localAddress();
            SplicedConnection pair = new SplicedConnection((IoEventLoop) hostChannel.eventLoop(), counters, release,
                    name, hostFd, wireFd, up, down, early);
            // Closing a Netty channel on its loop removes it from epoll, then closes its descriptor; the socket stays,
            // held by ours. Its handlers see it inactive; the caller has made sure they do nothing then.
            hostChannel.close();
            wireChannel.close();
            pair.host.register();
            pair.wire.register();
        } catch (NetdevException | RuntimeException e) {
            SocketFd.close(hostFd);
            if (wireFd >= 0) {
                SocketFd.close(wireFd);
            }
            if (up != null) {
                up.close();
            }
            throw e;
        }
    }

    /** One way: bytes from {@code from}'s socket through {@code pipe} into {@code to}'s. */
    private static final class Direction {
        final End from;
        final End to;
        final SplicePipe pipe;
        final Counter bytes;
        /** Bytes read into user space before splicing began, still to go into the pipe first; null when none. */
        MemorySegment early;
        /** Bytes in the pipe, spliced in and not yet out. */
        long pending;
        boolean sourceEnded;
        boolean done;

        Direction(End from, End to, SplicePipe pipe, Counter bytes, MemorySegment early) {
            this.from = from;
            this.to = to;
            this.pipe = pipe;
            this.bytes = bytes;
            this.early = early == null || early.byteSize() == 0 ? null : early;
        }
    }

    /** Moves what can move now in one direction; passes its end of stream on once the pipe is empty. */
    private void pump(Direction d) {
        if (finished || d.done) {
            return;
        }
        try {
            for (int round = 0; round < ROUNDS_PER_TURN; round++) {
                boolean moved = false;
                if (!d.sourceEnded && d.pending < d.pipe.capacity()) {
                    long n = fill(d);
                    if (n > 0) {
                        d.pending += n;
                        d.bytes.increment(n);
                        moved = true;
                    } else if (n == 0) {
                        d.sourceEnded = true;
                    }
                }
                if (d.pending > 0) {
                    long n = d.pipe.drainTo(d.to.fd, d.pending);
                    if (n > 0) {
                        d.pending -= n;
                        moved = true;
                    }
                }
                if (d.sourceEnded && d.pending == 0) {
                    // A FIN from the source, after every byte before it: the destination gets one too.
                    SocketFd.shutdownOutput(d.to.fd);
                    d.done = true;
                    if (fromHost.done && fromWire.done) {
                        finish(false, "both ways ended");
                    }
                    return;
                }
                if (!moved) {
                    return; // the source is empty or the destination full: its next edge brings us back
                }
            }
            loop.execute(() -> pump(d));
        } catch (NetdevException e) {
            finish(true, d.from.side + " → " + d.to.side + ": " + e.getMessage());
        }
    }

    /** Into the pipe: the early bytes first (a copy, counted as such), then the socket's by splice. */
    private long fill(Direction d) throws NetdevException {
        if (d.early != null) {
            long n = d.pipe.fill(d.early);
            if (n > 0) {
                counters.copied.increment(n);
                d.early = n == d.early.byteSize() ? null : d.early.asSlice(n);
            }
            return n == 0 ? SplicePipe.AGAIN : n; // write(2) of a non-empty buffer returns 0 for nothing: not an end
        }
        long n = d.pipe.fillFrom(d.from.fd, d.pipe.capacity() - d.pending);
        if (n > 0) {
            counters.spliced.increment(n);
        } else if (SocketFd.atUrgentMark(d.from.fd)) {
            // TCP urgent data (MSG_OOB): splice(2) never reads past its mark (it says EAGAIN, or 0 once the FIN is in,
            // which would cut the stream short), read(2) does, leaving the urgent byte out as the copy path always
            // has. What it reads goes in as early bytes do, copied.
            MemorySegment bytes = java.lang.foreign.Arena.ofAuto().allocate(URGENT_READ);
            long r = SocketFd.read(d.from.fd, bytes);
            if (r > 0) {
                d.early = bytes.asSlice(0, r);
                return fill(d);
            }
            return r == 0 ? 0 : SplicePipe.AGAIN;
        }
        return n;
    }

    /** Closes both sockets (with a RST each if {@code reset}) and the pipes, once. */
    private void finish(boolean reset, String why) {
        if (finished) {
            return;
        }
        finished = true;
        if (reset) {
            counters.resets.increment();
            log.info("relay {}: reset ({})", name, why);
        }
        host.close(reset);
        wire.close(reset);
        fromHost.pipe.close();
        fromWire.pipe.close();
        release.run();
    }

    /** One socket of the pair, as registered with the event loop's epoll. */
    private final class End implements EpollIoHandle {
        final String side;
        final int fd;
        private final FileDescriptor descriptor;
        private IoRegistration registration;
        Direction out;
        Direction in;

        End(String side, int fd) {
            this.side = side;
            this.fd = fd;
            // Netty's epoll handler keys its registrations by this descriptor, and deletes it from epoll on cancel
            // only while it reports itself open: it is closed through this object, after the cancel.
            this.descriptor = new FileDescriptor(fd);
        }

        void register() {
            loop.register(this).addListener(f -> {
                if (!f.isSuccess()) {
                    finish(true, side + ": cannot register with the event loop: " + f.cause());
                    return;
                }
                registration = (IoRegistration) f.getNow();
                if (finished) {
                    registration.cancel();
                    return;
                }
                registration.submit(INTEREST);
                pump(out); // what arrived before the registration: its edge may have passed
            });
        }

        @Override
        public FileDescriptor fd() {
            return descriptor;
        }

        @Override
        public void handle(IoRegistration r, IoEvent event) {
            EpollIoOps ops = ((EpollIoEvent) event).ops();
            if (ops.contains(EpollIoOps.EPOLLERR)) {
                // A RST (or another error) from this side: the other side is reset too. Read and cleared here, since
                // a direction that has ended would never make the call that reports it.
                finish(true, side + ": " + SocketFd.pendingError(fd));
                return;
            }
            if (ops.contains(EpollIoOps.EPOLLIN) || ops.contains(EpollIoOps.EPOLLRDHUP) || (ops.value() & EPOLLHUP) != 0) {
                pump(out);
            }
            if (ops.contains(EpollIoOps.EPOLLOUT) && in.pending > 0) {
                pump(in);
            }
        }

        void close(boolean reset) {
            if (!descriptor.isOpen()) {
                return;
            }
            if (reset) {
                SocketFd.resetOnClose(fd);
            }
            if (registration != null) {
                registration.cancel();
            }
            try {
                descriptor.close();
            } catch (java.io.IOException e) {
                log.debug("relay {}: closing the {} socket: {}", name, side, e.toString());
            }
        }

        /** The event loop is shutting down (the relay closes): the pair goes with it, without resets. */
        @Override
        public void close() {
            finish(false, "the relay closes");
        }
    }
}
