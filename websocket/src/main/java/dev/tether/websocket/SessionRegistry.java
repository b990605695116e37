package dev.tether.websocket;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * The live sessions of a {@link WebSocketServer}. A session is in the registry from the moment it
 * opens until its TCP connection is closed.
 *
 * <p>Not meant to be implemented by users. Thread-safe.
 */
public interface SessionRegistry {

    /** @return how many sessions are open now */
    int count();

    /** @return a snapshot of the open sessions */
    Collection<WebSocketSession> all();

    /**
     * @param id a session id
     * @return the session, if still open
     */
    Optional<WebSocketSession> get(String id);

    /**
     * Sends a message to every open session.
     *
     * @param message the message
     * @return how many sessions it was written to (failures on closing sessions are skipped)
     */
    Mono<Integer> broadcast(WebSocketMessage message);

    /**
     * Closes one session with the close handshake. Lazy.
     *
     * @param id     the session id
     * @param code   a sendable close code
     * @param reason the reason
     * @return the summary, or empty if no such session is open
     */
    Mono<CloseSummary> close(String id, int code, String reason);

    /**
     * Closes every open session concurrently with the close handshake. Lazy.
     *
     * @param code   a sendable close code
     * @param reason the reason
     * @return the summaries
     */
    Mono<List<CloseSummary>> closeAll(int code, String reason);
}
