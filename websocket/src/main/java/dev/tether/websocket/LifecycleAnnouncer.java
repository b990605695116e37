package dev.tether.websocket;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Application-level hello, goodbye and heartbeat messages a {@link WebSocketServer} sends on its
 * sessions' behalf. {@link dev.tether.websocket.onebot.OneBotAnnouncer} is the built-in implementation (OneBot v11 meta events).
 *
 * <p>All methods have do-nothing defaults; implement the ones you need. They are called on event
 * loops and must not block.
 */
public interface LifecycleAnnouncer {

    /** Announces nothing. */
    LifecycleAnnouncer NONE = new LifecycleAnnouncer() {
    };

    /**
     * @param session a session that just opened
     * @return messages to send it first, before anything the application sends
     */
    default List<WebSocketMessage> onOpen(WebSocketSession session) {
        return List.of();
    }

    /**
     * @param session a session about to be closed by a drain
     * @param reason  stop or reload
     * @return messages to send it just before the close frame
     */
    default List<WebSocketMessage> onDrain(WebSocketSession session, DrainReason reason) {
        return List.of();
    }

    /** @return how often to send {@link #heartbeat}; empty for never */
    default Optional<Duration> heartbeatInterval() {
        return Optional.empty();
    }

    /**
     * @param session  an open session
     * @param interval the time until the next heartbeat
     * @return the heartbeat message, if any
     */
    default Optional<WebSocketMessage> heartbeat(WebSocketSession session, Duration interval) {
        return Optional.empty();
    }
}
