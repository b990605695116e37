package dev.tether.jwt.internal;

import java.io.IOException;

/**
 * A token source answered, but not with a usable token: an HTTP error, an answer without
 * {@code access_token}, the same token again after a refresh. Never holds a token or a secret.
 */
public final class TokenFetchException extends IOException {

    private static final long serialVersionUID = 1L;

    /** The HTTP status, or -1. */
    private final int status;
    /** Whether retrying cannot help. */
    private final boolean permanent;

    /**
     * @param message   what happened
     * @param status    the HTTP status, or -1
     * @param permanent whether retrying cannot help
     */
    public TokenFetchException(String message, int status, boolean permanent) {
        super(message);
        this.status = status;
        this.permanent = permanent;
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
