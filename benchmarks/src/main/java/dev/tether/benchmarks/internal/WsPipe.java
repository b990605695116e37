package dev.tether.benchmarks.internal;

import dev.tether.core.Endpoint;
import dev.tether.core.ResilientConnection;
import dev.tether.websocket.Heartbeat;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketSession;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;

/**
 * One WebSocket connection to the echo server, either Tether's client or a plain Reactor Netty
 * client, with the same shape: messages go out through a sink, echoes come back to a callback. Each
 * client in its cheapest form that keeps the same meaning: a sent array is handed over without a copy
 * (Tether's {@code WebSocketMessage.wrapBinary}, Netty's {@code Unpooled.wrappedBuffer}), and an echo
 * reaches the callback in the client's own form that stays valid after it: Tether's message, which
 * owns its bytes, and Netty's frame copied out into an array (its buffer is released after the
 * callback).
 */
abstract class WsPipe implements AutoCloseable {

    static final int MAX_FRAME = 1024 * 1024;

    protected final Sinks.Many<byte[]> outbound = Sinks.many().unicast().onBackpressureBuffer();
    protected volatile Consumer<Object> inbound = b -> { };

    /** @param handler receives every echoed message, as a {@code WebSocketMessage} (Tether) or a {@code byte[]} (Netty) */
    void onMessage(Consumer<Object> handler) {
        this.inbound = handler;
    }

    /** Sends one message; called from one thread at a time. */
    void send(byte[] bytes) {
        outbound.emitNext(bytes, Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    /** Closes the connection. */
    @Override
    public abstract void close();

    static WsPipe open(String kind, String url) throws InterruptedException {
        return switch (kind) {
            case "tether" -> new TetherPipe(url);
            case "netty" -> new NettyPipe(url);
            default -> throw new IllegalArgumentException("unknown WebSocket client: " + kind);
        };
    }

    /** Tether's client under the core engine, heartbeat on as users run it. */
    static final class TetherPipe extends WsPipe {
        private final ResilientConnection<WebSocketSession> connection;
        private final Disposable receiving;
        private final Disposable sending;

        TetherPipe(String url) {
            WebSocketClient client = WebSocketClient.builder()
                    .session(s -> s.heartbeat(Heartbeat.defaults()))
                    .session(s -> s.maxFramePayload(MAX_FRAME))
                    .build();
            connection = ResilientConnection.builder(client).endpoint(Endpoint.of(url)).name("bench-ws").build();
            connection.start();
            WebSocketSession session = connection.awaitConnected(Duration.ofSeconds(10)).block();
            if (session == null) {
                throw new IllegalStateException("no WebSocket session");
            }
            receiving = session.receive().subscribe(m -> inbound.accept(m));
            sending = session.send(outbound.asFlux().map(WebSocketMessage::wrapBinary)).subscribe(v -> { }, e -> { });
        }

        @Override
        public void close() {
            sending.dispose();
            receiving.dispose();
            connection.close(dev.tether.core.CloseMode.GRACEFUL).block(Duration.ofSeconds(10));
        }
    }

    /** A plain Reactor Netty WebSocket client: no heartbeat, no close handshake, no reconnect. */
    static final class NettyPipe extends WsPipe {
        private final Disposable connection;

        NettyPipe(String url) throws InterruptedException {
            CountDownLatch open = new CountDownLatch(1);
            connection = HttpClient.create()
                    .websocket(WebsocketClientSpec.builder().maxFramePayloadLength(MAX_FRAME).build())
                    .uri(url)
                    .handle((in, out) -> {
                        open.countDown();
                        Mono<Void> reading = in.receiveFrames()
                                .doOnNext(f -> inbound.accept(ByteBufUtil.getBytes(f.content())))
                                .then();
                        Mono<Void> writing = out.sendObject(outbound.asFlux()
                                .map(b -> new BinaryWebSocketFrame(Unpooled.wrappedBuffer(b)))).then();
                        return Mono.when(reading, writing);
                    })
                    .subscribe(v -> { }, e -> { });
            if (!open.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no WebSocket connection to " + url);
            }
        }

        @Override
        public void close() {
            outbound.tryEmitComplete();
            connection.dispose();
        }
    }
}
