package io.cardnet.link.http;

/**
 * What a reply says about a file: its length, its entity tag (quoted, strong) and its modification time.
 * The host's export makes the tag from size and mtime; the card's cache keeps the host's tag, so a client's
 * If-None-Match means the same thing on both.
 */
public record FileMeta(long size, String etag, long lastModifiedMillis) {

    public static FileMeta of(long size, java.nio.file.attribute.FileTime mtime) {
        java.time.Instant t = mtime.toInstant();
        String tag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(t.getEpochSecond()) + "."
                + Integer.toHexString(t.getNano()) + "\"";
        return new FileMeta(size, tag, mtime.toMillis());
    }

    /** True if an If-None-Match header names this tag (or is "*"). */
    public boolean matches(String ifNoneMatch) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String t : ifNoneMatch.split(",")) {
            String tag = t.strip();
            if (tag.equals("*") || tag.equals(etag) || tag.equals("W/" + etag)) {
                return true;
            }
        }
        return false;
    }
}
