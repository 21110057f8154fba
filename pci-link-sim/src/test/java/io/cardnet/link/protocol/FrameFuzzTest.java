package io.cardnet.link.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bus's frame decoder against any bytes a hostile end can send: every frame is decoded or refused with a
 * {@link FrameFault}, nothing throws, and no buffer leaks. In `./mvnw test` the saved inputs
 * (src/test/resources/.../FrameFuzzTestInputs) replay as ordinary tests; with JAZZER_FUZZ=1 each target is fuzzed
 * for 10^6 executions or 5 minutes, whichever comes first (see docs/security.md).
 */
class FrameFuzzTest {

    /** One frame body as the decoder parses it: a Frame or a FrameFault, never an exception. */
    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void oneFrameIsDecodedOrRefused(byte[] body) {
        if (body.length < Frame.HEADER - 4 || body.length > Data.MAX_LENGTH) {
            return; // the decoder refuses these lengths before it parses (aStreamIsDecodedOrRefused covers them)
        }
        ByteBuf f = Unpooled.buffer(4 + body.length);
        f.writeIntLE(body.length);
        f.writeBytes(body);
        Object decoded = FrameDecoder.parse(f);
        assertTrue(decoded instanceof Frame || decoded instanceof FrameFault, String.valueOf(decoded));
        if (decoded instanceof Data d) {
            // a decoded DATA frame owns the frame's buffer (FrameDecoder releases only what is not Data)
            assertEquals(1, d.refCnt());
            assertTrue(d.release());
        } else {
            assertTrue(f.release());
        }
    }

    /** A stream cut anywhere: whatever comes out is a Frame or a fault, and the channel closes clean. */
    @FuzzTest(maxDuration = "5m", maxExecutions = 1_000_000)
    void aStreamIsDecodedOrRefusedAndNothingLeaks(byte[] stream) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder());
        ByteBuf in = Unpooled.buffer(Math.max(1, stream.length)).writeBytes(stream);
        ch.writeInbound(in);
        ch.finish();
        Object o;
        while ((o = ch.readInbound()) != null) {
            assertTrue(o instanceof Frame || o instanceof FrameFault, String.valueOf(o));
            if (o instanceof Data d) {
                assertEquals(1, d.content().refCnt());
                d.release();
            }
        }
        assertEquals(0, in.refCnt(), "the decoder kept the input buffer");
    }
}
