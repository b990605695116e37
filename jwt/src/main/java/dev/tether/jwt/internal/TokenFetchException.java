package dev.tether.jwt.internal;

import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * A token source answered, but not with a usable token: an HTTP error, an answer without
 * {@code access_token}, the same token again after a refresh. Never holds a token or a secret.
 */
final class TokenFetchException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The HTTP status, or -1. */
    private final int status;
    /** Whether retrying cannot help. */
    private final boolean permanent;
    /** How long the issuer asked us to wait, if it did. */
    private final @Nullable Duration retryAfter;

    /**
     * @param message   what happened
     * @param status    the HTTP status, or -1
     * @param permanent whether retrying cannot help
     */
    public TokenFetchException(String message, int status, boolean permanent) {
        this(message, status, permanent, null);
    }

    /**
     * @param message    what happened
     * @param status     the HTTP status, or -1
     * @param permanent  whether retrying cannot help
     * @param retryAfter how long the issuer asked to wait ({@code Retry-After}), or null
     */
    public TokenFetchException(String message, int status, boolean permanent, @Nullable Duration retryAfter) {
        super(message);
        this.status = status;
        this.permanent = permanent;
        this.retryAfter = retryAfter;
    }

    /** @return how long the issuer asked to wait before asking again, if it said */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }

    /** @return the HTTP status, or -1 */
    public int status() {
        return status;
    }

    /** @return whether retrying cannot help */
    public boolean permanent() {
        return permanent;
    }
}
