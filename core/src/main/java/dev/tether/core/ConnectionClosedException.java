package dev.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * How a stream of a closed {@link ResilientConnection} ends when it cannot complete normally.
 *
 * <p>After a terminal verdict every stream other than {@link ResilientConnection#lifecycle()} and
 * {@link ResilientConnection#onClosed()} errors with this exception, and its {@link #getCause() cause}
 * is the terminal exception ({@link FatalConnectionException} or {@link RetriesExhaustedException}).
 * After a user close, a wait for one value that can no longer come (for example
 * {@link ResilientConnection#session()}) errors with it too, with a null cause; streams of many
 * values complete instead. See "How every stream ends" on {@link ResilientConnection}.
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
