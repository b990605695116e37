package dev.tether.websocket;

/**
 * The timers (and the one byte budget) that can end a WebSocket session, each reported by name in the
 * {@link CloseSummary}.
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
    DRAIN_TIMEOUT,
    /**
     * We closed because of the peer's input (a protocol error, a message too big, a slow consumer) and
     * neither its close frame nor its FIN arrived within the linger timeout while we read and discarded.
     */
    LINGER_TIMEOUT,
    /**
     * The same, but the peer sent more than the linger byte budget after our close frame; TCP was closed
     * with its bytes still coming (the peer may see a reset).
     */
    LINGER_BYTES
}
