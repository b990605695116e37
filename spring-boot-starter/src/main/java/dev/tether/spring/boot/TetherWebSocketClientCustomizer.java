package dev.tether.spring.boot;

import dev.tether.websocket.WebSocketClient;

/**
 * Changes a WebSocket client's builder after the properties were applied and before it is built: per-attempt
 * headers or query parameters, TLS, verdicts. Every bean of this type is applied to every client, in {@code @Order}.
 */
@FunctionalInterface
public interface TetherWebSocketClientCustomizer {

    /**
     * @param name    the client's key in {@code tether.websocket.clients}
     * @param builder its builder, with the properties applied
     */
    void customize(String name, WebSocketClient.Builder builder);
}
