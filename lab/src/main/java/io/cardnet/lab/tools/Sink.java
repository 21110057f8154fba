package io.cardnet.lab.tools;

import io.cardnet.card.services.IntegrityCheck;
import io.cardnet.card.services.SinkService;
import io.cardnet.card.services.TransferReport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

/** A sink anywhere (host side, wire peer): the card's sink protocol, for transfers that end off the card. */
public final class Sink implements AutoCloseable {
    private final ServerSocketChannel server;
    private final IntegrityCheck unasked;

    private Sink(ServerSocketChannel server, IntegrityCheck unasked) {
        this.server = server;
        this.unasked = unasked;
    }

    /** A sink that runs the check each sender asks for, and CRC32C for senders that ask for none. */
    public static Sink listen(InetSocketAddress at) throws IOException {
        return listen(at, IntegrityCheck.CRC32C);
    }

    /** As {@link #listen(InetSocketAddress)}, running {@code unasked} for senders that ask for no check (nc). */
    public static Sink listen(InetSocketAddress at, IntegrityCheck unasked) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.bind(at);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + at + ": " + e.getMessage(), e);
        }
        return new Sink(s, unasked);
    }

    public int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** Serves one transfer, answers with its report, and returns it. */
    public TransferReport acceptOne() throws IOException {
        try (SocketChannel c = server.accept()) {
            return SinkService.answer(c, unasked, n -> { });
        }
    }

    /** Serves transfers until closed, one at a time, handing each report to {@code each}. */
    public void serve(Consumer<TransferReport> each) throws IOException {
        while (server.isOpen()) {
            each.accept(acceptOne());
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
