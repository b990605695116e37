package dev.tether.mqtt.internal;

import dev.tether.core.Attempt;
import dev.tether.mqtt.MqttProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * MQTT over WebSocket, below the MQTT codec and above Reactor Netty's WebSocket frame codec: binary
 * frames carry the MQTT bytes, pings are answered, and the close handshake is Tether's own. Close
 * frames never reach Reactor Netty: an inbound one is answered here and TCP closed; an outbound one
 * is sent once (code 1000, 2-byte payload), then the broker's reply or FIN is awaited for a bounded
 * time before TCP is closed.
 */
final class WebSocketFraming extends ChannelDuplexHandler implements TransportCloser {

    /** The normal closure code, the only one this client sends. */
    static final int NORMAL_CLOSURE = 1000;

    private final Duration closeTimeout;
    private final Attempt attempt;
    private @Nullable ChannelHandlerContext ctx;
    private boolean closeSent;
    private boolean closeReceived;

    WebSocketFraming(Duration closeTimeout, Attempt attempt) {
        this.closeTimeout = closeTimeout;
        this.attempt = attempt;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
            ByteBuf content = ((io.netty.handler.codec.http.websocketx.WebSocketFrame) msg).content().retain();
            ReferenceCountUtil.release(msg);
            ctx.fireChannelRead(content);
        } else if (msg instanceof PingWebSocketFrame ping) {
            ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            ping.release();
        } else if (msg instanceof PongWebSocketFrame pong) {
            pong.release();
        } else if (msg instanceof CloseWebSocketFrame close) {
            int code = close.statusCode();
            close.release();
            onCloseFrame(ctx, code);
        } else if (msg instanceof TextWebSocketFrame text) {
            text.release();
            ctx.fireExceptionCaught(new MqttProtocolException("the broker sent a WebSocket text frame; MQTT over "
                    + "WebSocket uses binary frames", null));
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void onCloseFrame(ChannelHandlerContext ctx, int code) {
        closeReceived = true;
        attempt.reportNotice("websocket-close-received", "close frame " + (code < 0 ? "without code (1005)" : code));
        if (!closeSent) {
            closeSent = true;
            // Answer with 1000; then the handshake is complete and the client closes TCP.
            ctx.writeAndFlush(closeFrame()).addListener(f -> ctx.close());
        } else {
            ctx.close();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf buf) {
            ctx.write(new BinaryWebSocketFrame(buf), promise);
        } else if (msg instanceof CloseWebSocketFrame close) {
            // A close frame from Reactor Netty's own paths: send at most one close frame per connection.
            if (closeSent) {
                close.release();
                promise.trySuccess();
            } else {
                closeSent = true;
                ctx.write(close, promise);
            }
        } else {
            ctx.write(msg, promise);
        }
    }

    @Override
    public void closeGracefully(Channel channel) {
        channel.eventLoop().execute(() -> {
            ChannelHandlerContext c = ctx;
            if (c == null || !channel.isActive()) {
                return;
            }
            if (closeReceived) {
                c.close();
                return;
            }
            if (!closeSent) {
                closeSent = true;
                c.writeAndFlush(closeFrame());
                attempt.reportNotice("websocket-close-sent", "close frame " + NORMAL_CLOSURE);
            }
            // Reads must flow, or the broker's close frame and FIN are never seen.
            channel.config().setAutoRead(true);
            c.read();
            c.executor().schedule(() -> {
                if (channel.isActive()) {
                    attempt.reportNotice("websocket-close-timeout", "no close frame or FIN from the broker within "
                            + closeTimeout.toMillis() + " ms; TCP closed by the client");
                    c.close();
                }
            }, closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        });
    }

    @Override
    public void abort(Channel channel) {
        channel.eventLoop().execute(() -> {
            ChannelHandlerContext c = ctx;
            if (c != null && channel.isActive() && !closeSent) {
                closeSent = true;
                c.writeAndFlush(closeFrame());
            }
            channel.close();
        });
    }

    private static CloseWebSocketFrame closeFrame() {
        return new CloseWebSocketFrame(true, 0, Unpooled.buffer(2).writeShort(NORMAL_CLOSURE));
    }
}
