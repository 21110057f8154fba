package io.cardnet.link.http;

/**
 * A single-range {@code Range: bytes=...} header against a representation of {@code size} bytes (RFC 9110 14.1).
 * A header this server does not take (other units, several ranges, nonsense) means the whole file, as the RFC
 * allows; a well-formed range wholly past the end is unsatisfiable (416).
 */
public sealed interface ByteRange permits ByteRange.Whole, ByteRange.Part, ByteRange.Unsatisfiable {

    record Whole() implements ByteRange {
    }

    /** Bytes {@code first..last}, both inclusive. */
    record Part(long first, long last) implements ByteRange {
        public long length() {
            return last - first + 1;
        }
    }

    record Unsatisfiable() implements ByteRange {
    }

    static ByteRange of(String header, long size) {
        if (header == null || !header.startsWith("bytes=") || header.indexOf(',') >= 0) {
            return new Whole();
        }
        String spec = header.substring("bytes=".length()).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return new Whole();
        }
        try {
            String a = spec.substring(0, dash).strip();
            String b = spec.substring(dash + 1).strip();
            if (a.isEmpty()) {
                long suffix = Long.parseLong(b);
                if (suffix < 0) {
                    return new Whole();
                }
                return suffix == 0 || size == 0 ? new Unsatisfiable() : new Part(Math.max(0, size - suffix), size - 1);
            }
            long first = Long.parseLong(a);
            long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
            if (first < 0 || last < first) {
                return new Whole();
            }
            return first >= size ? new Unsatisfiable() : new Part(first, Math.min(last, size - 1));
        } catch (NumberFormatException e) {
            return new Whole();
        }
    }
}
