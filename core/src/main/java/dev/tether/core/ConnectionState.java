package dev.tether.core;

/**
 * The state of a {@link ResilientConnection}, as derived from its lifecycle events.
 */
public enum ConnectionState {
    /** Built but not started. */
    IDLE,
    /** An attempt is in progress: asking for credentials, opening the transport, handshaking. */
    CONNECTING,
    /** A session is established. */
    CONNECTED,
    /** The last session or attempt failed; a retry is scheduled. */
    WAITING_TO_RETRY,
    /** {@code close()} or {@code abort()} was called and the connection is being closed. */
    CLOSING,
    /** Terminal: closed by the user, by a fatal verdict or because retries ran out. */
    CLOSED;

    /** @return whether this is the terminal state */
    public boolean isTerminal() {
        return this == CLOSED;
    }
}
