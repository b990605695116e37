package dev.tether.websocket.internal;

import static dev.tether.websocket.internal.WireFrames.closePayload;
import static dev.tether.websocket.internal.WireFrames.concat;
import static dev.tether.websocket.internal.WireFrames.frame;
import static dev.tether.websocket.internal.WireFrames.header;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The raw frame scanner follows frame boundaries however the stream is cut, and finds close frames. */
class FrameScannerTest {

    private static final byte[] MASK = {0x11, 0x22, 0x33, 0x44};

    private static final byte[] STREAM = concat(
            frame(true, 1, MASK, "hello".getBytes()),
            frame(false, 2, MASK, new byte[300]),                  // 16-bit length
            frame(true, 0, MASK, new byte[70_000]),                // 64-bit length
            frame(true, 9, MASK, new byte[0]),                     // empty ping
            frame(true, 8, MASK, closePayload(1009, "too big")),
            frame(true, 1, null, "after".getBytes()));             // unmasked (as from a server)

    @Test
    void followsBoundariesAndFindsTheCloseFrameWhereverTheStreamIsCut() {
        for (int cut = 0; cut <= STREAM.length; cut += cut < 40 ? 1 : 997) {
            for (int second = cut; second <= STREAM.length; second += second < cut + 20 ? 1 : 4_999) {
                FrameScanner scanner = new FrameScanner();
                List<byte[]> closes = new ArrayList<>();
                scan(scanner, closes, 0, cut);
                scan(scanner, closes, cut, second);
                scan(scanner, closes, second, STREAM.length);
                assertThat(scanner.frames()).as("cut at %d and %d", cut, second).isEqualTo(6);
                assertThat(closes).hasSize(1);
                assertThat(closes.get(0)).isEqualTo(closePayload(1009, "too big"));
            }
        }
    }

    @Test
    void aCloseFrameTooLongForAControlFrameIsNotReportedAndAnImpossibleLengthSwallowsTheRest() {
        FrameScanner scanner = new FrameScanner();
        List<byte[]> closes = new ArrayList<>();
        byte[] longClose = frame(true, 8, MASK, new byte[200]);
        byte[] impossible = header(true, 2, MASK, -1L, new byte[0]); // 64-bit length with the top bit set
        byte[] all = concat(longClose, impossible, frame(true, 8, MASK, closePayload(1000, "")));
        ByteBuf buf = Unpooled.wrappedBuffer(all);
        scanner.scan(buf, closes::add);
        assertThat(buf.readerIndex()).as("the scanner leaves the buffer as it was").isZero();
        assertThat(closes).as("the long close frame is no close frame; nothing after the impossible length is a frame").isEmpty();
        assertThat(scanner.frames()).isEqualTo(2);
    }

    private static void scan(FrameScanner scanner, List<byte[]> closes, int from, int to) {
        ByteBuf part = Unpooled.wrappedBuffer(STREAM, from, to - from);
        scanner.scan(part, closes::add);
    }
}
