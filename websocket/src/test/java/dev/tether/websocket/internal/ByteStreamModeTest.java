package dev.tether.websocket.internal;

import static dev.tether.websocket.internal.WireFrames.closePayload;
import static dev.tether.websocket.internal.WireFrames.frame;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.Heartbeat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Byte-stream mode (a protocol such as MQTT carried in binary frames), in virtual time on an in-memory
 * client channel fed raw server frames: payloads pass on as bytes, writes become binary frames, the
 * abort rule, and the lingering close after a refusal.
 */
class ByteStreamModeTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> above = new ArrayList<>();
    private @Nullable CloseSummary summary;

    @AfterEach
    void dispose() {
        time.dispose();
    }

    private EmbeddedChannel client() {
        SessionSettings settings = new SessionSettings(true, Duration.ofSeconds(3), Duration.ofSeconds(1), Heartbeat.disabled(),
                null, 1024, 1024, 1, time, Long.MAX_VALUE, Duration.ofSeconds(2), 1 << 20);
        EmbeddedChannel ch = new EmbeddedChannel(new WebSocket13FrameDecoder(false, true, 1024));
        CloseHandshakeHandler h = new CloseHandshakeHandler(ch, settings, "mqtt").byteStream().observer(new SessionObserver() {
            @Override
            public void closed(CloseSummary s) {
                summary = s;
                above.add("summary");
            }
        });
        ch.pipeline().addLast(CloseHandshakeHandler.NAME, h);
        // The protocol above: records bytes, errors and the end, in order.
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                above.add("bytes " + b.toString(StandardCharsets.UTF_8));
                b.release();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                above.add("error " + ((CorruptedWebSocketFrameException) cause).closeStatus().code());
                // like the MQTT connection: its goodbye, then abort
                ctx.writeAndFlush(Unpooled.copiedBuffer("goodbye", StandardCharsets.UTF_8));
                handler(ctx.channel()).abortOrLinger();
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                above.add("inactive");
            }
        });
        return ch;
    }

    private static CloseHandshakeHandler handler(io.netty.channel.Channel ch) {
        return (CloseHandshakeHandler) ch.pipeline().get(CloseHandshakeHandler.NAME);
    }

    private static String outbound(EmbeddedChannel ch) {
        Object o = ch.readOutbound();
        try {
            if (o instanceof CloseWebSocketFrame c) {
                return "close " + c.statusCode();
            }
            return "binary " + ((BinaryWebSocketFrame) o).content().toString(StandardCharsets.UTF_8);
        } finally {
            io.netty.util.ReferenceCountUtil.release(o);
        }
    }

    @Test
    void binaryPayloadsPassOnAsBytesAndWritesBecomeBinaryFrames() {
        EmbeddedChannel ch = client();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(false, 2, null, "hel".getBytes()), frame(true, 0, null, "lo".getBytes())));
        assertThat(above).containsExactly("bytes hel", "bytes lo");
        ch.writeAndFlush(Unpooled.copiedBuffer("out", StandardCharsets.UTF_8));
        assertThat(outbound(ch)).isEqualTo("binary out");
        ch.close();
    }

    @Test
    void abortSendsNoCloseFrameAndClosesAtOnce() {
        EmbeddedChannel ch = client();
        handler(ch).abortOrLinger();
        ch.runPendingTasks();
        assertThat((Object) ch.readOutbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.closeFrameSent()).isFalse();
        assertThat(above).as("the summary comes before the protocol's end").containsExactly("summary", "inactive");
    }

    @Test
    void aRefusedFrameLetsTheProtocolSayGoodbyeThenLingersWith1009() {
        EmbeddedChannel ch = client();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 2, null, new byte[2000])));
        assertThat(above).containsExactly("error 1009");
        assertThat(outbound(ch)).isEqualTo("binary goodbye");
        assertThat(outbound(ch)).isEqualTo("close 1009");
        assertThat(handler(ch).state()).isEqualTo(CloseState.CLOSE_SENT);
        handler(ch).abortOrLinger();
        assertThat(ch.isOpen()).as("abort leaves a lingering close to its bounds").isTrue();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[5000]));
        time.advanceTimeBy(Duration.ofMillis(1999));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isTrue();
        time.advanceTimeBy(Duration.ofMillis(1));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.timersFired()).containsExactly(CloseTimer.LINGER_TIMEOUT);
    }

    @Test
    void aRefusalFromAboveMakesTheAbortALingeringCloseEndedByThePeersCloseFrame() {
        EmbeddedChannel ch = client();
        handler(ch).refused(1009, "packet too large");
        handler(ch).abortOrLinger();
        assertThat(outbound(ch)).isEqualTo("close 1009");
        ch.writeInbound(Unpooled.wrappedBuffer(WireFrames.concat(frame(true, 2, null, new byte[900]),
                frame(true, 8, null, closePayload(1009, "")))));
        assertThat(above).as("nothing after our close frame reaches the protocol").isEmpty();
        time.advanceTimeBy(Duration.ofSeconds(1));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(summary.clean()).isTrue();
        assertThat(summary.codeReceived()).isEqualTo(1009);
        assertThat(summary.timersFired()).containsExactly(CloseTimer.TCP_CLOSE_WAIT);
    }

    @Test
    void aTextFrameIsRefusedWith1003() {
        EmbeddedChannel ch = client();
        ch.writeInbound(Unpooled.wrappedBuffer(frame(true, 1, null, "text".getBytes())));
        assertThat(above).containsExactly("error 1003");
        assertThat(outbound(ch)).isEqualTo("binary goodbye");
        assertThat(outbound(ch)).isEqualTo("close 1003");
        ch.close();
    }
}
