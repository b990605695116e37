package dev.tether.spring.boot;

import dev.tether.websocket.WebSocketSession;
import org.reactivestreams.Publisher;

/**
 * The application's handler of the Tether WebSocket server ({@code tether.websocket.server.*}): declare one as a
 * bean and the server starts with the context. Called once per session.
 *
 * <pre>{@code
 * @Bean
 * TetherWebSocketHandler telemetryHandler(Flux<String> events) {
 *     return session -> session.send(events.map(WebSocketMessage::text));
 * }
 * }</pre>
 */
@FunctionalInterface
public interface TetherWebSocketHandler {

    /**
     * @param session the new session
     * @return completes when the application is done with the session
     */
    Publisher<Void> handle(WebSocketSession session);
}
