package io.cardnet.link.protocol;

/**
 * What checking bytes from the bus gave: the thing itself, or the {@link FrameFault} that says why it was
 * refused. One type for every "decoded or refused" answer (a DATA frame's bytes, a descriptor's DMA slot, a
 * packet a checksum policy will not write), in the spirit of Netty's {@code DecoderResult}, so that a refusal
 * always comes with its reason and a caller cannot forget to look (a switch over the two cases is exhaustive).
 */
public sealed interface Decoded<T> permits Decoded.Ok, Decoded.Refused {

    record Ok<T>(T value) implements Decoded<T> {
    }

    record Refused<T>(FrameFault fault) implements Decoded<T> {
    }

    static <T> Decoded<T> ok(T value) {
        return new Ok<>(value);
    }

    static <T> Decoded<T> refused(FrameFault.Kind kind, String detail) {
        return new Refused<>(new FrameFault(kind, detail));
    }
}
