package dev.tether.websocket.internal.transport;

import dev.tether.core.spi.Attempt;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSessionSpec;
import dev.tether.websocket.internal.CloseHandshakeHandler;
import dev.tether.websocket.internal.SessionObserver;
import dev.tether.websocket.internal.SessionSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import java.time.Duration;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * A byte stream carried in binary WebSocket messages, for a protocol that runs over WebSocket (MQTT,
 * subprotocol {@code mqtt}), with the same close handshake as Tether's WebSocket client: the same
 * state machine and timers (close-handshake timeout, TCP-close wait, lingering close), the same
 * {@code CloseSent}, {@code CloseReceived} and {@code Notice[websocket-closed]} lifecycle events with
 * a {@link CloseSummary}. Its {@link #handler()} goes just after Reactor Netty's WebSocket codec and
 * before the protocol's decoder: binary frames become the bytes the protocol reads, the
 * {@link io.netty.buffer.ByteBuf}s the protocol writes become binary frames, pings are answered.
 *
 * <p>Ending: {@link #closeGracefully()} is the close handshake (1000, the peer's reply within the close
 * timeout, then its FIN within the TCP-close wait). {@link #abort()} follows one rule: it sends no
 * close frame and closes TCP at once, unless the peer's input was refused ({@link #refused(int, String)},
 * or a frame the decoder refused): then it is a lingering close with that code, ended by the peer's
 * close frame or FIN within the linger bounds, so no unread data turns the close frame into a reset.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class ByteStreamWebSocket {

    private final CloseHandshakeHandler handler;

    private ByteStreamWebSocket(CloseHandshakeHandler handler) {
        this.handler = handler;
    }

    /**
     * The client side of an upgraded connection.
     *
     * @param channel               the upgraded channel
     * @param subprotocol           the negotiated subprotocol, or null
     * @param maxFramePayload       the largest frame payload, in and out (what the decoder was given)
     * @param closeHandshakeTimeout how long to wait for the peer's close frame after ours
     * @param attempt               the engine's attempt: close steps and the summary go on its lifecycle stream
     * @return the transport; add its {@link #handler()} before the protocol's decoder
     */
    public static ByteStreamWebSocket client(Channel channel, @org.jspecify.annotations.Nullable String subprotocol,
                                             int maxFramePayload, Duration closeHandshakeTimeout, Attempt attempt) {
        Objects.requireNonNull(attempt, "attempt");
        SessionSettings settings = new SessionSettings(true, closeHandshakeTimeout, WebSocketClient.DEFAULT_TCP_CLOSE_WAIT,
                Heartbeat.disabled(), null, maxFramePayload, maxFramePayload, 1, attempt.scheduler(), Long.MAX_VALUE,
                WebSocketSessionSpec.DEFAULT_LINGER_TIMEOUT, WebSocketSessionSpec.DEFAULT_LINGER_BYTES);
        CloseHandshakeHandler h = new CloseHandshakeHandler(channel, settings, subprotocol).byteStream()
                .observer(new SessionObserver() {
                    @Override
                    public void closeSent(int code, String reason) {
                        attempt.reportCloseSent(code, reason);
                    }

                    @Override
                    public void closeReceived(int code, String reason) {
                        attempt.reportCloseReceived(code, reason);
                    }

                    @Override
                    public void closed(CloseSummary summary) {
                        attempt.reportNotice(WebSocketClient.CLOSED_NOTICE, summary);
                    }
                });
        return new ByteStreamWebSocket(h);
    }

    /** @return the handler to add to the pipeline, under {@link CloseHandshakeHandler#NAME} or any name */
    public ChannelHandler handler() {
        return handler;
    }

    /** Starts the close handshake with 1000; TCP is closed when it ends or its timers run out. */
    public void closeGracefully() {
        handler.close(1000, "").subscribe(null, e -> { });
    }

    /** Closes at once without a close frame, or lingers when the peer's input was refused (see the class comment). */
    public void abort() {
        handler.abortOrLinger();
    }

    /**
     * The protocol refused the peer's input; the next {@link #abort()} is a lingering close with this code.
     *
     * @param code   1009 for a packet too large, 1002 for a malformed one
     * @param reason why
     */
    public void refused(int code, String reason) {
        handler.refused(code, reason);
    }

    /** @return the summary once TCP is closed */
    public Mono<CloseSummary> closed() {
        return handler.closed();
    }
}
