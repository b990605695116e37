package dev.tether.core;

/**
 * Who caused a connection to end.
 */
public enum Initiator {
    /** The application asked for it: {@code close()} or {@code abort()}. */
    LOCAL_USER,
    /** Tether itself detected a failure: keepalive or pong timeout, protocol error, watchdog. */
    LOCAL_DETECTION,
    /** The remote peer ended it: a close frame, a DISCONNECT, a reset or a closed socket. */
    REMOTE_PEER
}
