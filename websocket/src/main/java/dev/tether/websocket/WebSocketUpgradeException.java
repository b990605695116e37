package dev.tether.websocket;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Initiator;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The server refused the WebSocket upgrade with an HTTP status (for example 401, 429, 503).
 * {@link #code()} is the HTTP status.
 */
public final class WebSocketUpgradeException extends ConnectionFailedException {

    private static final long serialVersionUID = 1L;

    /** The HTTP status. */
    private final int status;
    /** The server's Retry-After, if it sent one. */
    private final @Nullable Duration retryAfter;
    /** The server's Location, if it sent one. */
    private final @Nullable String location;

    /**
     * @param status     the HTTP status
     * @param retryAfter the server's {@code Retry-After}, or null
     * @param cause      the handshake failure, or null
     */
    public WebSocketUpgradeException(int status, @Nullable Duration retryAfter, @Nullable Throwable cause) {
        this(status, retryAfter, null, cause);
    }

    /**
     * @param status     the HTTP status
     * @param retryAfter the server's {@code Retry-After}, or null
     * @param location   the server's {@code Location} (a redirect), or null
     * @param cause      the handshake failure, or null
     */
    public WebSocketUpgradeException(int status, @Nullable Duration retryAfter, @Nullable String location,
                                     @Nullable Throwable cause) {
        super("the server refused the WebSocket upgrade with HTTP " + status
                + (retryAfter == null ? "" : " (Retry-After " + retryAfter.toSeconds() + " s)")
                + (location == null ? "" : " (Location " + withoutQuery(location) + ")"),
                Initiator.REMOTE_PEER, status, null, cause);
        this.status = status;
        this.retryAfter = retryAfter;
        this.location = location;
    }

    private static String withoutQuery(String location) {
        int q = location.indexOf('?');
        return q < 0 ? location : location.substring(0, q);
    }

    /** @return the HTTP status */
    public int status() {
        return status;
    }

    /** @return the {@code Location} the server redirected to, if any */
    public Optional<String> location() {
        return Optional.ofNullable(location);
    }

    /** @return the delay the server asked for in {@code Retry-After}, if any */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
