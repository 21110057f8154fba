package io.cardnet.link.protocol;

/**
 * A simulator → end MSI: "process received descriptors up to {@code rxUpTo}" (0 = none new) and
 * "{@code credits} of your posted descriptors completed" (their ring slots are free again).
 * Coalescing decides how many descriptors one interrupt covers. Body {@code u64 rxUpTo, u32 credits, u32 0}.
 */
public record Interrupt(long rxUpTo, int credits) implements Frame {
    public static final int BODY = 16;

    @Override
    public FrameType type() {
        return FrameType.INTERRUPT;
    }
}
