package io.cardnet.card.httpd;

import io.cardnet.link.http.HttpCounters;
import io.cardnet.link.http.Replies;
import io.cardnet.link.http.RequestPath;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection to the card's httpd. A request's file may have to come from the host first, so replies
 * are chained: each is written after the one before it, in request order, on the connection's event loop.
 */
final class HttpdHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final HttpdCache cache;
    private final HttpCounters counters;
    private CompletableFuture<Void> previous = CompletableFuture.completedFuture(null);

    HttpdHandler(HttpdCache cache, HttpCounters counters) {
        this.cache = cache;
        this.counters = counters;
    }

    /** A lookup made ready to send: the file opened (for a body), or why not. */
    private record Ready(HttpdCache.Lookup lookup, FileChannel channel) {
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        switch (RequestPath.of(request)) {
            case RequestPath.Refused r -> {
                counters.refused(r.reason());
                reply(ctx, () -> Replies.error(ctx, request, HttpResponseStatus.valueOf(r.status()), r.message(), counters));
            }
            case RequestPath.Valid v -> {
                boolean body = request.method().equals(HttpMethod.GET);
                CompletableFuture<Ready> ready = prepare(v.path(), body, true);
                CompletableFuture<Void> before = previous;
                previous = ready.thenCombine(before, (r, x) -> r)
                        .thenCompose(r -> onLoop(ctx, () -> send(ctx, request, r)))
                        .exceptionally(e -> null);
            }
        }
    }

    /**
     * Looks the file up and, for a GET, opens it as soon as it is there (in the thread that found it): a file the
     * cache drops right after this request is then still readable. One retry if the cache dropped it first.
     */
    private CompletableFuture<Ready> prepare(RequestPath path, boolean body, boolean retry) {
        return cache.lookup(path).thenCompose(l -> {
            if (!body || !(l instanceof HttpdCache.Found f)) {
                return CompletableFuture.completedFuture(new Ready(l, null));
            }
            try {
                return CompletableFuture.completedFuture(new Ready(l, FileChannel.open(f.entry().file(), StandardOpenOption.READ)));
            } catch (NoSuchFileException e) {
                return retry ? prepare(path, true, false)
                        : CompletableFuture.completedFuture(new Ready(new HttpdCache.Failed(503, "busy, retry"), null));
            } catch (IOException e) {
                return CompletableFuture.completedFuture(new Ready(new HttpdCache.Failed(500, e.getMessage()), null));
            }
        });
    }

    private void send(ChannelHandlerContext ctx, HttpRequest request, Ready r) {
        switch (r.lookup()) {
            case HttpdCache.Failed f -> {
                if (f.status() == 403 || f.status() == 400) {
                    counters.refused("host");
                }
                Replies.error(ctx, request, HttpResponseStatus.valueOf(f.status()), f.message(), counters);
            }
            case HttpdCache.Found f -> {
                AtomicBoolean taken = new AtomicBoolean();
                Replies.file(ctx, request, f.entry().meta(), () -> {
                    taken.set(true);
                    if (r.channel() == null) {
                        throw new IOException("no body was prepared");
                    }
                    return r.channel();
                }, counters);
                if (!taken.get() && r.channel() != null) {
                    close(r.channel());
                }
            }
        }
    }

    private void reply(ChannelHandlerContext ctx, Runnable write) {
        previous = previous.thenCompose(x -> onLoop(ctx, write)).exceptionally(e -> null);
    }

    private static CompletableFuture<Void> onLoop(ChannelHandlerContext ctx, Runnable work) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ctx.executor().execute(() -> {
            try {
                work.run();
                done.complete(null);
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
                ctx.close();
            }
        });
        return done;
    }

    private static void close(FileChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing was read from it
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
