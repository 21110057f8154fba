package io.cardnet.link.hostile;

import io.cardnet.link.protocol.Data;
import io.cardnet.link.protocol.Desc;
import io.cardnet.link.protocol.Frame;
import io.cardnet.link.protocol.FrameDecoder;
import io.cardnet.link.protocol.FrameEncoder;
import io.cardnet.link.protocol.Heartbeat;
import io.cardnet.link.protocol.Interrupt;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One side of a bus connection spoken by hand: any bytes or frame out (whole or not), heartbeats every 50 ms once
 * started, and every control frame the other side sends kept in {@link #received} (heartbeats, interrupts and
 * descriptors are read and dropped, so the other side's writes never back up). A hostile end uses it toward a
 * simulator, a hostile simulator toward an end.
 */
public final class RawFrames implements AutoCloseable {
    /** Control frames (and FrameFaults) the other side sent, in order; an IOException if the stream failed. */
    public final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final SocketChannel ch;
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "raw-frames-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private final Thread reader;
    private volatile boolean closing;

    public RawFrames(SocketChannel connected) {
        this.ch = connected;
        reader = Thread.ofPlatform().daemon().name("raw-frames-reader").start(this::read);
    }

    /** Starts heartbeating, as a live end or simulator does. */
    public void heartbeat() {
        heartbeat.scheduleAtFixedRate(() -> {
            try {
                send(new Heartbeat(System.nanoTime()));
            } catch (IOException e) {
                // the other side closed the connection: nothing more to keep alive
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
    }

    public void send(Frame f) throws IOException {
        send(FrameEncoder.encodeControl(ByteBufAllocator.DEFAULT, f));
    }

    /** Writes and releases {@code b}: any bytes, a frame or not. */
    public synchronized void send(ByteBuf b) throws IOException {
        try {
            ByteBuffer nio = b.nioBuffer();
            while (nio.hasRemaining()) {
                ch.write(nio);
            }
        } finally {
            b.release();
        }
    }

    /** The next frame of {@code type} within 10 s, skipping others; null if none came. */
    public <T> T next(Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Object o = received.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(o)) {
                return type.cast(o);
            }
        }
        return null;
    }

    private void read() {
        EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder());
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (ch.read(buf) >= 0) {
                buf.flip();
                decoder.writeInbound(Unpooled.copiedBuffer(buf));
                buf.clear();
                for (Object f = decoder.readInbound(); f != null; f = decoder.readInbound()) {
                    if (f instanceof Heartbeat || f instanceof Interrupt || f instanceof Desc || f instanceof Data) {
                        ReferenceCountUtil.release(f);
                    } else {
                        received.add(f);
                    }
                }
            }
        } catch (IOException e) {
            if (!closing) {
                received.add(e);
            }
        } finally {
            decoder.finishAndReleaseAll();
        }
    }

    /** Stops heartbeating, ends the output with {@code last} (any bytes, e.g. a cut frame), drains, closes. */
    public void close(ByteBuf last) {
        heartbeat.shutdownNow();
        try {
            send(last);
            ch.shutdownOutput();
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (IOException | InterruptedException e) {
            // the other side may already have gone
        } finally {
            closing = true;
            try {
                ch.close();
            } catch (IOException e) {
                // closing: nothing to do about it
            }
        }
    }

    @Override
    public void close() {
        close(Unpooled.EMPTY_BUFFER);
    }
}
