package dev.tether.core.spi;

import dev.tether.core.FailureClassifier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The protocol half of a {@link dev.tether.core.ResilientConnection}: how to open one session. Implemented by the
 * MQTT and WebSocket modules; the engine does everything around it (retries, backoff, verdicts,
 * credentials, events).
 *
 * <p>{@link #connect(Attempt)} is subscribed once per attempt. It completes with an
 * {@link EstablishedSession} once the protocol handshake succeeded, or errors with the reason it
 * did not (ideally a {@link dev.tether.core.ConnectionFailedException} naming the protocol code). If the engine
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
     * are consulted first, then this one, then {@link dev.tether.core.FailureClassifier#defaults()}.
     *
     * @return the protocol classifier; by default, no opinion
     */
    default FailureClassifier classifier() {
        return failure -> java.util.Optional.empty();
    }

    /**
     * Whether a graceful close that arrives while an attempt is under way is handed to the attempt
     * ({@link Attempt#closeRequested()}) instead of cancelling it. A connector that says yes must then end the
     * attempt promptly: at once if its handshake has not reached the peer yet, else after saying goodbye in
     * the requested mode (MQTT: wait for CONNACK, then DISCONNECT, so the broker does not publish the Will),
     * and signal the end of {@link #connect(Attempt)} (an error, or a session, which the engine then closes
     * in the same mode) only once its transport is closed. The engine bounds the wait by its
     * {@code closeTimeout}, then cancels the attempt (an abort) and reports it with a
     * {@code Notice("close-aborted")}. An {@link dev.tether.core.CloseMode#ABORT} always cancels at once.
     *
     * @return false by default: a close during an attempt cancels it
     */
    default boolean closesAttemptsGracefully() {
        return false;
    }

    /**
     * Called once when the connection built on this connector has closed for good, after its
     * {@link dev.tether.core.LifecycleEvent.Closed} event and before {@code onClosed()} completes, on the
     * thread that ran the engine's last step. For state the connector shares with its connection's owner
     * (queues to fail, stores to close), without a subscription to {@code onClosed()} held for the
     * connection's whole life. Must not block or throw.
     *
     * @param cause null after a close the user asked for, else why the connection gave up (a terminal verdict)
     */
    default void closed(@Nullable Throwable cause) {
    }
}
