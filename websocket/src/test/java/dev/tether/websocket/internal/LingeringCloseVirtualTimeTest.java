package dev.tether.websocket.internal;

import static dev.tether.websocket.internal.WireFrames.closePayload;
import static dev.tether.websocket.internal.WireFrames.concat;
import static dev.tether.websocket.internal.WireFrames.frame;
import static dev.tether.websocket.internal.WireFrames.header;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Initiator;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.Heartbeat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The lingering close in virtual time, on an in-memory channel with Netty's real frame decoder fed raw
 * bytes: after a close caused by the peer's input, our close frame goes out, inbound bytes are
 * discarded (released, never decoded) until the peer's close frame, and the linger timeout and byte
 * budget bound the wait. The same against real sockets: {@code LingeringCloseIT}.
 */
class LingeringCloseVirtualTimeTest {

    private static final byte[] MASK = {1, 2, 3, 4};
    private static final int FRAME_LIMIT = 1024;
    private static final Duration LINGER = Duration.ofSeconds(2);

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> steps = new ArrayList<>();
    private @Nullable CloseSummary summary;

    @AfterEach
    void dispose() {
        time.dispose();
    }

    private EmbeddedChannel server(long lingerBytes) {
        SessionSettings settings = new SessionSettings(false, Duration.ofSeconds(3), Duration.ofSeconds(1), Heartbeat.disabled(),
                null, FRAME_LIMIT, 4 * FRAME_LIMIT, 16, time, Long.MAX_VALUE, LINGER, lingerBytes);
        // As after Reactor Netty's upgrade: a frame decoder that would close by itself on a violation.
        EmbeddedChannel ch = new EmbeddedChannel(new WebSocket13FrameDecoder(true, true, FRAME_LIMIT));
        CloseHandshakeHandler h = new CloseHandshakeHandler(ch, settings, null).observer(new SessionObserver() {
            @Override
            public void closeSent(int code, String reason) {
                steps.add("sent " + code);
            }

            @Override
            public void closeReceived(int code, String reason) {
                steps.add("received " + code);
            }

            @Override
            public void closed(CloseSummary s) {
                steps.add("closed");
                summary = s;
            }
        });
        ch.pipeline().addLast(CloseHandshakeHandler.NAME, h);
        return ch;
    }

    private static CloseHandshakeHandler handler(EmbeddedChannel ch) {
        return (CloseHandshakeHandler) ch.pipeline().get(CloseHandshakeHandler.NAME);
    }

    private static LingerGate gate(EmbeddedChannel ch) {
        return (LingerGate) ch.pipeline().get(LingerGate.NAME);
    }

    private void advance(EmbeddedChannel ch, Duration d) {
        time.advanceTimeBy(d);
        ch.runPendingTasks();
    }

    /** Sends the header of a frame beyond the limit plus the first payload bytes; returns what was sent of it. */
    private static ByteBuf oversizedFrameStart(long length, int firstBytes) {
        return Unpooled.wrappedBuffer(header(true, 2, MASK, length, new byte[firstBytes]));
    }

    private static int sentCloseCode(EmbeddedChannel ch) {
        CloseWebSocketFrame sent = ch.readOutbound();
        assertThat(sent).as("a close frame went out").isNotNull();
        try {
            return sent.statusCode();
        } finally {
            sent.release();
        }
    }

    @Test
    void anOversizedFrameIsAnsweredWith1009AndTheRestIsDiscardedUntilThePeersCloseFrame() {
        EmbeddedChannel ch = server(1L << 30);
        long length = 100_000;
        ch.writeInbound(oversizedFrameStart(length, 500));
        assertThat(sentCloseCode(ch)).isEqualTo(1009);
        assertThat(handler(ch).state()).isEqualTo(CloseState.CLOSE_SENT);
        assertThat(ch.isOpen()).as("no close at once: the peer is still sending").isTrue();

        // the rest of the frame, in pieces: each one released as it comes, nothing decoded or delivered
        List<ByteBuf> pieces = new ArrayList<>();
        long left = length - 500;
        while (left > 0) {
            int n = (int) Math.min(8192, left);
            ByteBuf piece = Unpooled.wrappedBuffer(new byte[n]);
            pieces.add(piece);
            ch.writeInbound(piece);
            left -= n;
            advance(ch, Duration.ofMillis(10));
        }
        assertThat(pieces).allMatch(p -> p.refCnt() == 0);
        assertThat(ch.isOpen()).isTrue();
        assertThat(gate(ch).discardedBytes()).isEqualTo(length - 500);

        // the peer's close frame, right after the frame, with something after it in the same read
        ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(true, 8, MASK, closePayload(1009, "")),
                frame(true, 1, MASK, "late".getBytes()))));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).as("the server closes TCP once the handshake is complete").isFalse();
        assertThat(summary.clean()).isTrue();
        assertThat(summary.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
        assertThat(summary.codeSent()).isEqualTo(1009);
        assertThat(summary.codeReceived()).isEqualTo(1009);
        assertThat(summary.timersFired()).isEmpty();
        assertThat(steps).containsExactly("sent 1009", "received 1009", "closed");
        assertThat((Object) ch.readInbound()).as("nothing reached the application side").isNull();
    }

    @Test
    void theLingerTimeoutEndsTheWaitExactlyAtItsBound() {
        EmbeddedChannel ch = server(1L << 30);
        ch.writeInbound(oversizedFrameStart(1L << 40, 100));
        assertThat(sentCloseCode(ch)).isEqualTo(1009);
        advance(ch, LINGER.minusMillis(1));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[4096]));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.LINGER_TIMEOUT);
        assertThat(summary.closingTook()).isEqualTo(LINGER);
        assertThat(summary.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
        assertThat(summary.clean()).isFalse();
    }

    @Test
    void theByteBudgetEndsTheWaitOnceExceeded() {
        EmbeddedChannel ch = server(10_000);
        ch.writeInbound(oversizedFrameStart(1L << 40, 100));
        assertThat(sentCloseCode(ch)).isEqualTo(1009);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[6_000]));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[4_000]));
        assertThat(ch.isOpen()).as("exactly the budget discarded").isTrue();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[1]));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.LINGER_BYTES);
    }

    @Test
    void aProtocolErrorLingersToo() {
        EmbeddedChannel ch = server(1L << 30);
        // a continuation frame outside any message: Netty's decoder reports 1002
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 0, MASK, new byte[10])));
        assertThat(sentCloseCode(ch)).isEqualTo(1002);
        assertThat(ch.isOpen()).isTrue();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 8, MASK, closePayload(1002, ""))));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.codeReceived()).isEqualTo(1002);
        assertThat(summary.clean()).isTrue();
    }

    @Test
    void aMessageTooBigAcrossFragmentsLingersUntilThePeersCloseFrame() {
        EmbeddedChannel ch = server(1L << 30);
        for (int i = 0; i < 5; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(frame(false, i == 0 ? 2 : 0, MASK, new byte[FRAME_LIMIT])));
        }
        assertThat(sentCloseCode(ch)).isEqualTo(1009);
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 0, MASK, new byte[FRAME_LIMIT])));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, LINGER.minusMillis(1));
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 8, MASK, closePayload(1009, ""))));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).isEmpty();
        assertThat(summary.clean()).isTrue();
    }

    @Test
    void anInvalidCloseFrameFromThePeerIsAnsweredWith1002AndClosedWithoutLingering() {
        EmbeddedChannel ch = server(1L << 30);
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 8, MASK, closePayload(1005, ""))));
        ch.runPendingTasks();
        assertThat(sentCloseCode(ch)).isEqualTo(1002);
        assertThat(ch.isOpen()).as("the peer has sent its close frame: nothing to wait for").isFalse();
        assertThat(summary.codeSent()).isEqualTo(1002);
        assertThat(summary.closeFrameReceived()).isFalse();
    }

    @Test
    void aCloseWeChooseDiscardsTooButKeepsTheCloseHandshakeTimeout() {
        EmbeddedChannel ch = server(1L << 30);
        handler(ch).close(1001, "going").subscribe();
        assertThat(sentCloseCode(ch)).isEqualTo(1001);
        ByteBuf data = Unpooled.wrappedBuffer(frame(true, 1, MASK, "still talking".getBytes()));
        ch.writeInbound(data);
        assertThat(data.refCnt()).isZero();
        assertThat(gate(ch).discarding()).isTrue();
        advance(ch, Duration.ofMillis(2999));
        assertThat(ch.isOpen()).isTrue();
        advance(ch, Duration.ofMillis(1));
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
    }

    @Test
    void whileOpenTheGatePassesBytesUntouchedAndFramesAreDecodedAsUsual() {
        EmbeddedChannel ch = server(1L << 30);
        List<String> got = new ArrayList<>();
        handler(ch).receive().map(m -> m.text()).subscribe(got::add);
        byte[] two = concat(frame(true, 1, MASK, "one".getBytes()), frame(true, 1, MASK, "two".getBytes()));
        ch.writeInbound(Unpooled.wrappedBuffer(two, 0, 5));
        ch.writeInbound(Unpooled.wrappedBuffer(two, 5, two.length - 5));
        assertThat(got).containsExactly("one", "two");
        assertThat(gate(ch).discarding()).isFalse();
        ch.close();
    }
}
