package io.cardnet.link.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Date;

/**
 * Writes the replies of a read-only file server: a file (200, 206 for a single Range, 304 for a matching
 * If-None-Match, 416 for a range past the end; HEAD gets the same headers and no body), or a short text error.
 * A file body goes out as a {@link DefaultFileRegion}: on the epoll transport that is sendfile(2), page cache
 * (or tmpfs) straight to the socket, no copy through the JVM.
 */
public final class Replies {
    private Replies() {
    }

    /** Opens the file's channel only when a body is sent. */
    @FunctionalInterface
    public interface FileOpener {
        FileChannel open() throws IOException;
    }

    /** Answers {@code request} with the file; returns the status sent. */
    public static int file(ChannelHandlerContext ctx, HttpRequest request, FileMeta meta, FileOpener opener,
                           HttpCounters counters) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (meta.matches(request.headers().get(HttpHeaderNames.IF_NONE_MATCH))) {
            HttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
            describe(r, meta);
            return send(ctx, r, keepAlive, counters);
        }
        ByteRange range = ByteRange.of(request.headers().get(HttpHeaderNames.RANGE), meta.size());
        if (range instanceof ByteRange.Unsatisfiable) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE);
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + meta.size());
            HttpUtil.setContentLength(r, 0);
            return send(ctx, r, keepAlive, counters);
        }
        long first = range instanceof ByteRange.Part p ? p.first() : 0;
        long length = range instanceof ByteRange.Part p ? p.length() : meta.size();
        HttpResponseStatus status = range instanceof ByteRange.Part ? HttpResponseStatus.PARTIAL_CONTENT : HttpResponseStatus.OK;
        boolean head = request.method().equals(HttpMethod.HEAD);
        FileChannel channel = null;
        if (!head && length > 0) {
            try {
                channel = opener.open();
            } catch (IOException e) {
                return error(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, "cannot open the file: " + e.getMessage(), counters);
            }
        }
        HttpResponse r = channel == null ? new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status)
                : new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
        describe(r, meta);
        HttpUtil.setContentLength(r, length);
        if (range instanceof ByteRange.Part p) {
            r.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes " + p.first() + "-" + p.last() + "/" + meta.size());
        }
        setConnection(r, keepAlive);
        counters.status(status.code());
        if (channel == null) {
            finish(ctx.writeAndFlush(r), keepAlive);
            return status.code();
        }
        ctx.write(r);
        ctx.write(new DefaultFileRegion(channel, first, length)).addListener(f -> {
            if (f.isSuccess()) {
                counters.served(length);
            }
        });
        finish(ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT), keepAlive);
        return status.code();
    }

    /** A short text error; returns its status. */
    public static int error(ChannelHandlerContext ctx, HttpRequest request, HttpResponseStatus status, String message,
                            HttpCounters counters) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(status + ": " + message + "\n", StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            r.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        HttpUtil.setContentLength(r, r.content().readableBytes());
        if (request != null && request.method().equals(HttpMethod.HEAD)) {
            r.content().clear();
        }
        // After a refusal the connection closes: whatever else the client pipelined is not worth reading.
        boolean keepAlive = request != null && HttpUtil.isKeepAlive(request) && status.code() < 500 && status.code() != 400;
        return send(ctx, r, keepAlive, counters);
    }

    private static int send(ChannelHandlerContext ctx, HttpResponse r, boolean keepAlive, HttpCounters counters) {
        setConnection(r, keepAlive);
        counters.status(r.status().code());
        finish(ctx.writeAndFlush(r), keepAlive);
        return r.status().code();
    }

    private static void describe(HttpResponse r, FileMeta meta) {
        r.headers().set(HttpHeaderNames.ETAG, meta.etag());
        r.headers().set(HttpHeaderNames.LAST_MODIFIED, DateFormatter.format(new Date(meta.lastModifiedMillis())));
        r.headers().set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
    }

    private static void setConnection(HttpResponse r, boolean keepAlive) {
        r.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
    }

    private static void finish(ChannelFuture last, boolean keepAlive) {
        if (!keepAlive) {
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
