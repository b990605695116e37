package dev.tether.websocket;

import java.net.SocketAddress;
import java.time.Instant;

/**
 * Something that happened in a {@link WebSocketServer}: to the server itself or to one session.
 */
public sealed interface ServerEvent {

    /** @return when it happened */
    Instant timestamp();

    /**
     * The listener is bound and accepting upgrades.
     *
     * @param timestamp when
     * @param port      the bound port
     */
    record Started(Instant timestamp, int port) implements ServerEvent {
    }

    /**
     * A session opened.
     *
     * @param timestamp when
     * @param sessionId the session
     * @param remote    the client's address
     */
    record SessionOpened(Instant timestamp, String sessionId, SocketAddress remote) implements ServerEvent {
    }

    /**
     * A close frame was sent to a session.
     *
     * @param timestamp when
     * @param sessionId the session
     * @param code      the code sent (1005 for none)
     * @param reason    the reason sent
     */
    record CloseSent(Instant timestamp, String sessionId, int code, String reason) implements ServerEvent {
    }

    /**
     * A session's close frame arrived.
     *
     * @param timestamp when
     * @param sessionId the session
     * @param code      the code received (1005 for none)
     * @param reason    the reason received
     */
    record CloseReceived(Instant timestamp, String sessionId, int code, String reason) implements ServerEvent {
    }

    /**
     * A session's TCP connection is closed.
     *
     * @param timestamp when
     * @param sessionId the session
     * @param summary   how it ended
     */
    record SessionClosed(Instant timestamp, String sessionId, CloseSummary summary) implements ServerEvent {
    }

    /**
     * A drain began: upgrades are refused with 503 from now on.
     *
     * @param timestamp when
     * @param reason    stop or reload
     * @param sessions  sessions open at the start
     */
    record DrainStarted(Instant timestamp, DrainReason reason, int sessions) implements ServerEvent {
    }

    /**
     * A drain ended: every session is closed.
     *
     * @param timestamp when
     * @param report    what it did
     */
    record Drained(Instant timestamp, DrainReport report) implements ServerEvent {
    }

    /**
     * The listener is closed (after a stop; a reload binds again and emits {@link Started}).
     *
     * @param timestamp when
     * @param port      the port that was released
     */
    record Stopped(Instant timestamp, int port) implements ServerEvent {
    }
}
