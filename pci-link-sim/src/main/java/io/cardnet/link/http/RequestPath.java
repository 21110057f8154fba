package io.cardnet.link.http;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.ArrayList;
import java.util.List;

/**
 * A request target reduced to a path relative to the served directory, or the reason it was refused. Only
 * origin-form targets ("/a/b") are accepted; after percent-decoding, a "." or ".." segment, a backslash or a NUL
 * is refused rather than normalised away, so an attempt is seen (and counted) instead of silently served.
 * Empty segments collapse: "//etc/passwd" is "etc/passwd" under the served directory, never the root's.
 */
public record RequestPath(String relative) {

    /** What a request target turned out to be. */
    public sealed interface Parsed permits Valid, Refused {
    }

    public record Valid(RequestPath path) implements Parsed {
    }

    /**
     * @param reason a short counter tag (traversal, malformed, method)
     * @param status the HTTP status that answers it
     */
    public record Refused(String reason, String message, int status) implements Parsed {
        Refused(String reason, String message) {
            this(reason, message, 400);
        }
    }

    /** A request a read-only file server takes: decoded, GET or HEAD, and a path that stays inside. */
    public static Parsed of(io.netty.handler.codec.http.HttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            return new Refused("malformed", "malformed request");
        }
        var m = request.method();
        if (!m.equals(io.netty.handler.codec.http.HttpMethod.GET) && !m.equals(io.netty.handler.codec.http.HttpMethod.HEAD)) {
            return new Refused("method", "read-only: GET and HEAD only", 405);
        }
        return parse(request.uri());
    }

    public static Parsed parse(String target) {
        if (target == null || !target.startsWith("/")) {
            return new Refused("malformed", "the request target must be a path starting with '/', not '" + target + "'");
        }
        String decoded;
        try {
            decoded = new QueryStringDecoder(target).path();
        } catch (IllegalArgumentException e) {
            return new Refused("malformed", "bad percent-encoding in '" + target + "'");
        }
        if (decoded.indexOf('\0') >= 0 || decoded.indexOf('\\') >= 0) {
            return new Refused("traversal", "NUL and backslash are not allowed in a path");
        }
        List<String> segments = new ArrayList<>();
        for (String s : decoded.split("/")) {
            if (s.equals("..") || s.equals(".")) {
                return new Refused("traversal", "'" + s + "' segments are not allowed: " + target);
            }
            if (!s.isEmpty()) {
                segments.add(s);
            }
        }
        return new Valid(new RequestPath(String.join("/", segments)));
    }

    /** The path as a request target again ("/" + relative), percent-encoded where needed. */
    public String target() {
        try {
            return new java.net.URI(null, null, "/" + relative, null).getRawPath();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "/" + relative;
    }
}
