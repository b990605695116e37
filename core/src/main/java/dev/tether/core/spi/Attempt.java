package dev.tether.core.spi;

import dev.tether.core.CloseMode;
import dev.tether.core.Credentials;
import dev.tether.core.Endpoint;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * What the engine hands a {@link Connector} for one attempt, and the connector's way of reporting
 * protocol events that belong to that attempt's generation.
 *
 * <p>Events reported through the {@code report*} methods carry this attempt's generation and the
 * engine's clock, and appear on the lifecycle stream in order with the engine's own events.
 */
public interface Attempt {

    /** @return the generation of this attempt (and of the session it may establish) */
    long generation();

    /** @return the attempt number within the current streak of failures (1 = first) */
    int number();

    /** @return where to connect */
    Endpoint endpoint();

    /** @return the credentials obtained for this attempt */
    Credentials credentials();

    /** @return whether the credentials were refreshed for this attempt after a refusal */
    boolean credentialsRefreshed();

    /** @return the engine's scheduler: use it for protocol timers so tests can run in virtual time */
    Scheduler scheduler();

    /**
     * Reports that the protocol's goodbye was sent.
     *
     * @param code   the code sent
     * @param reason the reason text, possibly empty
     */
    void reportCloseSent(int code, String reason);

    /**
     * Reports that the peer's goodbye arrived.
     *
     * @param code   the code received
     * @param reason the reason text, possibly empty
     */
    void reportCloseReceived(int code, String reason);

    /**
     * Reports a protocol event that is not a state change.
     *
     * @param kind    a short machine-friendly name, e.g. {@code resubscribed}
     * @param details protocol detail; its {@code toString()} must be readable and hold no secret
     */
    void reportNotice(String kind, Object details);

    /**
     * Emits the mode of a graceful close the user asked for while this attempt is under way, if its connector
     * {@link Connector#closesAttemptsGracefully() handles it}; never completes otherwise. It may already have
     * fired when {@link Connector#connect(Attempt)} is called (the close came while credentials were fetched).
     *
     * @return the requested close mode, {@link dev.tether.core.CloseMode#GRACEFUL} or {@link dev.tether.core.CloseMode#GRACEFUL_WITH_WILL}
     */
    default Mono<CloseMode> closeRequested() {
        return Mono.never();
    }
}
