package dev.tether.jwt.internal;

import reactor.core.publisher.Mono;

import java.time.Instant;

/**
 * Where a {@link TokenCache} gets a new token from.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public interface TokenSource {

    /**
     * @param now the provider's current time (the issue time for self-signed tokens)
     * @return one new token; subscribed once per fetch try
     */
    Mono<String> fetch(Instant now);

    /** @return a short description for messages, holding no secret */
    String description();
}
