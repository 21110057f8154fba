package io.cardnet.hostbridge.export;

import io.cardnet.link.http.FileMeta;
import io.cardnet.link.http.HttpCounters;
import io.cardnet.link.http.Replies;
import io.cardnet.link.http.RequestPath;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * One connection to the export. Three gates before a byte is read: the peer must be the card (the card routes
 * the wire, so a wire machine could otherwise reach toe0's address through it), the path must hold no "." or
 * ".." segment, and the file's real path (symlinks followed) must lie inside the exported directory.
 */
final class ExportHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Path root;
    private final InetAddress client;
    private final HttpCounters counters;

    ExportHandler(Path root, InetAddress client, HttpCounters counters) {
        this.root = root;
        this.client = client;
        this.counters = counters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress peer = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress();
        if (!peer.equals(client)) {
            counters.refused("client");
            ctx.close();
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        switch (RequestPath.of(request)) {
            case RequestPath.Refused r -> {
                counters.refused(r.reason());
                Replies.error(ctx, request, HttpResponseStatus.valueOf(r.status()), r.message(), counters);
            }
            case RequestPath.Valid v -> serve(ctx, request, v.path());
        }
    }

    private void serve(ChannelHandlerContext ctx, FullHttpRequest request, RequestPath path) {
        Path file = root.resolve(path.relative()).normalize();
        Path real;
        BasicFileAttributes attrs;
        try {
            real = file.toRealPath();
            if (!real.startsWith(root)) {
                counters.refused("symlink");
                Replies.error(ctx, request, HttpResponseStatus.FORBIDDEN, path + " leads outside the export", counters);
                return;
            }
            attrs = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            Replies.error(ctx, request, HttpResponseStatus.NOT_FOUND, path + " is not in the export", counters);
            return;
        } catch (IOException e) {
            Replies.error(ctx, request, HttpResponseStatus.FORBIDDEN, path + ": " + e.getMessage(), counters);
            return;
        }
        if (!attrs.isRegularFile()) {
            Replies.error(ctx, request, HttpResponseStatus.NOT_FOUND, path + " is not a file", counters);
            return;
        }
        Replies.file(ctx, request, FileMeta.of(attrs.size(), attrs.lastModifiedTime()),
                () -> FileChannel.open(real, StandardOpenOption.READ), counters);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
