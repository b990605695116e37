package dev.tether.core;

import java.util.Objects;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Supplies credentials before every connection attempt.
 *
 * <p>The engine subscribes to {@link #credentials(CredentialsRequest)} once per attempt, so a
 * token source can always hand out a token that is still valid. After a refusal classified as
 * {@link Verdict.Kind#REFRESH_CREDENTIALS_THEN_RETRY} the next request has
 * {@link CredentialsRequest#refresh()} set. An error or an empty result fails the attempt; the
 * failure goes through the same verdict classifier as any other.
 */
@FunctionalInterface
public interface CredentialsProvider {

    /**
     * @param request why credentials are needed
     * @return the credentials for this attempt
     */
    Mono<Credentials> credentials(CredentialsRequest request);

    /** @return a provider that always supplies {@link Credentials#none()} */
    static CredentialsProvider none() {
        return request -> Mono.just(Credentials.none());
    }

    /**
     * @param credentials fixed credentials (refresh has nothing new to offer)
     * @return a provider that always supplies them
     */
    static CredentialsProvider fixed(Credentials credentials) {
        Objects.requireNonNull(credentials, "credentials");
        return request -> Mono.just(credentials);
    }

    /**
     * @param supplier called for every attempt, refreshed or not
     * @return a provider backed by the supplier
     */
    static CredentialsProvider from(Supplier<Mono<Credentials>> supplier) {
        Objects.requireNonNull(supplier, "supplier");
        return request -> Mono.defer(supplier);
    }
}
