package dev.tether.websocket;

/**
 * The timers that can end a WebSocket session, each reported by name in the {@link CloseSummary}.
 */
public enum CloseTimer {
    /** Our close frame was sent and the peer's did not arrive in time. */
    CLOSE_HANDSHAKE_TIMEOUT,
    /** Client only: the close handshake completed but the server did not close TCP in time. */
    TCP_CLOSE_WAIT,
    /** A ping went unanswered (and nothing else arrived) within the pong timeout. */
    PONG_TIMEOUT,
    /** No application message arrived within the watchdog period. */
    APPLICATION_WATCHDOG,
    /** Server only: a session was still open when the drain bound of a stop or reload ran out. */
    DRAIN_TIMEOUT
}
