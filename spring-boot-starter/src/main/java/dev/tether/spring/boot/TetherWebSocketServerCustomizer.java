package dev.tether.spring.boot;

import dev.tether.websocket.WebSocketServer;

/**
 * Changes the WebSocket server's builder after the properties were applied and before it is built: an
 * {@code Authenticator}, another announcer, TLS. Every bean of this type is applied, in {@code @Order}.
 */
@FunctionalInterface
public interface TetherWebSocketServerCustomizer {

    /**
     * @param builder the server's builder, with the properties and the handler applied
     */
    void customize(WebSocketServer.Builder builder);
}
