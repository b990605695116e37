package dev.tether.websocket;

/**
 * Where a session is in the close handshake (RFC 6455 section 7).
 */
public enum CloseState {
    /** Data flows both ways. */
    OPEN,
    /** We sent a close frame and wait for the peer's. */
    CLOSE_SENT,
    /** The peer's close frame arrived; ours is being sent in reply. */
    CLOSE_RECEIVED,
    /** Both close frames were exchanged; the TCP connection is being closed. */
    HANDSHAKE_COMPLETE,
    /** The TCP connection is closed. */
    CLOSED
}
