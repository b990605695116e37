package dev.tether.core;

import reactor.core.publisher.Mono;

/**
 * The protocol half of a {@link ResilientConnection}: how to open one session. Implemented by the
 * MQTT and WebSocket modules; the engine does everything around it (retries, backoff, verdicts,
 * credentials, events).
 *
 * <p>{@link #connect(Attempt)} is subscribed once per attempt. It completes with an
 * {@link EstablishedSession} once the protocol handshake succeeded, or errors with the reason it
 * did not (ideally a {@link ConnectionFailedException} naming the protocol code). If the engine
 * cancels the subscription (the user closed during the attempt, or the attempt timed out), the
 * connector must release whatever it opened.
 *
 * @param <S> the protocol's session type, handed to users
 */
public interface Connector<S> {

    /**
     * @param attempt the attempt's generation, number, endpoint and credentials, and a way to report
     *                protocol events
     * @return the established session, or an error
     */
    Mono<EstablishedSession<S>> connect(Attempt attempt);

    /**
     * The protocol's default verdicts (CONNACK codes, close codes, HTTP statuses). User classifiers
     * are consulted first, then this one, then {@link FailureClassifier#defaults()}.
     *
     * @return the protocol classifier; by default, no opinion
     */
    default FailureClassifier classifier() {
        return failure -> java.util.Optional.empty();
    }
}
