package dev.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * Signalled to callers waiting for a session (for example {@link ResilientConnection#session()})
 * when the connection is closed, by the user or terminally, before a session became available.
 */
public final class ConnectionClosedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what was closed, and why
     * @param cause   the terminal cause, or null after a user close
     */
    public ConnectionClosedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
