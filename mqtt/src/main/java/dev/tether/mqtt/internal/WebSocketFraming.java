package dev.tether.mqtt.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.websocket.internal.transport.ByteStreamWebSocket;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import java.time.Duration;

/**
 * MQTT over WebSocket: a thin binary codec over the WebSocket transport the WebSocket client uses
 * ({@link ByteStreamWebSocket}). Binary frames carry the MQTT bytes; the close handshake, its timers,
 * the {@code CloseSummary} and the close steps on the lifecycle stream are the WebSocket client's.
 *
 * <p>The rule for {@link #abort(Channel)}: no WebSocket close frame, TCP closed at once (the broker
 * sees the connection drop and publishes the Will) — except when the client refused the broker's input
 * (a packet or frame beyond {@code maxPacketSize}: 1009; a malformed packet: 1002): then a close frame
 * with that code follows the MQTT goodbye, and the client lingers, discarding what the broker still
 * sends until its close frame or FIN (bounded), so no reset destroys the close frame.
 * {@link #closeGracefully(Channel)} is the close handshake with 1000.
 */
final class WebSocketFraming implements TransportCloser {

    /** The normal closure code, the one a graceful close sends. */
    static final int NORMAL_CLOSURE = 1000;

    private final ByteStreamWebSocket transport;

    WebSocketFraming(Channel channel, int maxPacketSize, Duration closeTimeout, Attempt attempt) {
        this.transport = ByteStreamWebSocket.client(channel, "mqtt", maxPacketSize, closeTimeout, attempt);
    }

    /** @return the WebSocket handler, added before the MQTT framer */
    ChannelHandler handler() {
        return transport.handler();
    }

    /**
     * @return a handler for just after the MQTT framer and decoder: it notes when they refuse the broker's
     *         input, so the abort that follows is a lingering close (errors pass on unchanged)
     */
    ChannelHandler refusals() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                if (cause instanceof PacketFramer.FramingException fe) {
                    transport.refused(fe.reasonCode == 0x95 ? 1009 : 1002, String.valueOf(fe.getMessage()));
                } else if (cause instanceof DecoderException && !(cause
                        instanceof io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException)) {
                    transport.refused(1002, "malformed MQTT packet");
                }
                ctx.fireExceptionCaught(cause);
            }
        };
    }

    @Override
    public void closeGracefully(Channel channel) {
        transport.closeGracefully();
    }

    @Override
    public void abort(Channel channel) {
        transport.abort();
    }
}
