package dev.tether.websocket;

import java.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One open WebSocket connection, on the client or the server side.
 *
 * <p>Inbound messages arrive on {@link #receive()} with backpressure: when the subscriber stops
 * requesting, a small buffer fills and then reading from the socket pauses. The close handshake is
 * Tether's own: {@link #close(int, String)} sends a close frame, waits for the peer's (bounded by
 * the close-handshake timeout) and then for the TCP connection to close; a close frame from the peer
 * is always answered. How it ended is reported by {@link #closed()}.
 *
 * <p>Not meant to be implemented by users. Thread-safe.
 */
public interface WebSocketSession {

    /** @return an identifier, unique within this JVM, for logs and registries */
    String id();

    /** @return the remote address */
    SocketAddress remoteAddress();

    /** @return the subprotocol the server selected, if any */
    Optional<String> subprotocol();

    /**
     * Inbound data messages. One subscriber at a time; it completes once the session is closed and
     * every message that arrived was delivered.
     *
     * @return the messages, with backpressure
     */
    Flux<WebSocketMessage> receive();

    /**
     * Sends messages in order, respecting backpressure from the socket.
     *
     * @param messages the messages
     * @return completes when every message was written; errors if the session closes first
     */
    Mono<Void> send(Publisher<WebSocketMessage> messages);

    /**
     * @param message one message
     * @return completes when written; errors with {@link java.io.IOException} if the session is closing or closed
     */
    Mono<Void> send(WebSocketMessage message);

    /**
     * @param text a text message
     * @return completes when written
     */
    default Mono<Void> sendText(String text) {
        return send(WebSocketMessage.text(text));
    }

    /**
     * Starts the close handshake (if not already closing) and waits for its end. Lazy.
     *
     * @param code   a close code that may be sent (1000-1003, 1007-1014, 3000-4999); never 1005, 1006, 1015
     * @param reason a reason, at most 123 UTF-8 bytes
     * @return the summary, once the TCP connection is closed
     * @throws IllegalArgumentException (at call time) if the code may not be sent or the reason is too long
     */
    Mono<CloseSummary> close(int code, String reason);

    /**
     * Closes the TCP connection at once, without a close frame. Lazy.
     *
     * @return the summary, once the TCP connection is closed
     */
    Mono<CloseSummary> abort();

    /** @return the summary once the session's TCP connection is closed; never errors */
    Mono<CloseSummary> closed();

    /** @return where the close handshake is now */
    CloseState state();

    /** @return the round-trip time of the last answered heartbeat ping, if any */
    Optional<Duration> lastRoundTrip();

    /**
     * @return on the server, the principal the {@link Authenticator} accepted (e.g. a token's subject);
     *         empty for anonymous sessions and on the client
     */
    default Optional<String> principal() {
        return Optional.empty();
    }

    /** @return on the server, the attributes the {@link Authenticator} attached; empty otherwise */
    default Map<String, Object> attributes() {
        return Map.of();
    }

    /**
     * @return on the server, when the credentials the session was accepted with expire (the server closes
     *         the session then); empty if they do not
     */
    default Optional<Instant> credentialsExpireAt() {
        return Optional.empty();
    }
}
