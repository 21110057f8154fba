package io.cardnet.lab.tools;

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

    private Sink(ServerSocketChannel server) {
        this.server = server;
    }

    public static Sink listen(InetSocketAddress at) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        try {
            s.bind(at);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + at + ": " + e.getMessage(), e);
        }
        return new Sink(s);
    }

    public int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** Serves one transfer, answers with its report, and returns it. */
    public TransferReport acceptOne() throws IOException {
        try (SocketChannel c = server.accept()) {
            return SinkService.answer(c, n -> { });
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
