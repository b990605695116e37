package dev.tether.jwt.internal;

import dev.tether.jwt.InvalidJwtException;

import java.time.Instant;
import java.util.Optional;

/**
 * Decides whether a fetched token may be handed out, and until when.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
@FunctionalInterface
public interface TokenCheck {

    /**
     * @param token the fetched token
     * @param now   the provider's current time
     * @return the token's expiry, if it has one
     * @throws InvalidJwtException if the token must not be handed out
     */
    Optional<Instant> check(String token, Instant now) throws InvalidJwtException;
}
