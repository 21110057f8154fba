package io.cardnet.card.httpd;

import io.cardnet.link.http.FileMeta;
import io.cardnet.link.http.RequestPath;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** The host's export seen from the card: a conditional GET across the bus, the body written straight to a file. */
final class HostOrigin {
    private final URI origin;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    HostOrigin(URI origin) {
        this.origin = origin;
    }

    /** What the host answered. */
    sealed interface Answer permits Body, NotModified, Refused {
    }

    /** The file, now in {@code file}. */
    record Body(Path file, FileMeta meta) implements Answer {
    }

    record NotModified() implements Answer {
    }

    /** The host's refusal (404, 403, 400...), passed on to the client. */
    record Refused(int status, String message) implements Answer {
    }

    /** Fetches {@code path}; with {@code etag} (from the cache) the host answers 304 if the file is unchanged. */
    Answer fetch(RequestPath path, String etag, Path into) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(origin.resolve(path.target())).timeout(Duration.ofSeconds(60)).GET();
        if (etag != null) {
            b.header("If-None-Match", etag);
        }
        HttpResponse<Path> r;
        try {
            r = client.send(b.build(), info -> info.statusCode() == 200
                    ? HttpResponse.BodySubscribers.ofFile(into)
                    : HttpResponse.BodySubscribers.replacing(null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + path + " from the host", e);
        }
        return switch (r.statusCode()) {
            case 200 -> body(path, r, into);
            case 304 -> new NotModified();
            default -> new Refused(r.statusCode(), "the host's export answered " + r.statusCode() + " for " + path);
        };
    }

    private static Body body(RequestPath path, HttpResponse<Path> r, Path into) throws IOException {
        long size = Files.size(into);
        long promised = r.headers().firstValueAsLong("Content-Length").orElse(size);
        String etag = r.headers().firstValue("ETag").orElse(null);
        if (size != promised || etag == null) {
            Files.deleteIfExists(into);
            throw new IOException("the host's answer for " + path + " is incomplete (" + size + " of " + promised
                    + " bytes, ETag " + etag + ")");
        }
        long modified = r.headers().firstValue("Last-Modified")
                .map(v -> ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli())
                .orElse(0L);
        return new Body(into, new FileMeta(size, etag, modified));
    }
}
