package dev.tether.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import org.jspecify.annotations.Nullable;

/**
 * One step in the life of a {@link ResilientConnection}.
 *
 * <p>Every event carries the connection's {@linkplain #generation() generation}: each attempt
 * gets a new, larger number, so an event from an old socket is never mistaken for one from the
 * current one. Every event carries the {@linkplain #timestamp() time} it happened, read from the
 * engine's scheduler (virtual time in tests).
 */
public sealed interface LifecycleEvent {

    /** @return the generation of the attempt or session this event belongs to (0 before the first attempt) */
    long generation();

    /** @return when the event happened */
    Instant timestamp();

    /**
     * The connection is built but not started. Seen only by subscribers before {@code start()}.
     *
     * @param generation always 0
     * @param timestamp  when the connection was built
     */
    record Idle(long generation, Instant timestamp) implements LifecycleEvent {
    }

    /**
     * An attempt begins.
     *
     * @param generation the generation of this attempt
     * @param timestamp  when it began
     * @param attempt    the attempt number within the current streak of failures (1 = first)
     * @param endpoint   where the attempt goes
     */
    record Connecting(long generation, Instant timestamp, int attempt, Endpoint endpoint) implements LifecycleEvent {
    }

    /**
     * The credentials provider was asked to refresh and supplied new credentials.
     *
     * @param generation the attempt that asked
     * @param timestamp  when the new credentials arrived
     * @param reason     why a refresh was asked (the refusal that caused it)
     */
    record CredentialsRefreshed(long generation, Instant timestamp, String reason) implements LifecycleEvent {
    }

    /**
     * A session is established.
     *
     * @param generation the generation of the session
     * @param timestamp  when it was established
     * @param endpoint   the endpoint it is connected to
     * @param details    what was negotiated, in the protocol's own terms (e.g. CONNACK properties,
     *                   subprotocol); its {@code toString()} is a readable summary
     */
    record Connected(long generation, Instant timestamp, Endpoint endpoint, Object details) implements LifecycleEvent {
    }

    /**
     * Something the protocol wants to report that is not a state change: resubscription results,
     * a heartbeat round trip, a re-authentication.
     *
     * @param generation the session it belongs to
     * @param timestamp  when it happened
     * @param kind       a short machine-friendly name, e.g. {@code resubscribed}
     * @param details    protocol detail; its {@code toString()} is a readable summary
     */
    record Notice(long generation, Instant timestamp, String kind, Object details) implements LifecycleEvent {
    }

    /**
     * {@code close()} or {@code abort()} was called.
     *
     * @param generation the current generation
     * @param timestamp  when it was called
     * @param mode       how the user asked to close
     */
    record CloseRequested(long generation, Instant timestamp, CloseMode mode) implements LifecycleEvent {
    }

    /**
     * The protocol's goodbye was sent (a WebSocket close frame, an MQTT DISCONNECT).
     *
     * @param generation the session
     * @param timestamp  when it was written
     * @param code       the code sent (close code, DISCONNECT reason code)
     * @param reason     the reason text, possibly empty
     */
    record CloseSent(long generation, Instant timestamp, int code, String reason) implements LifecycleEvent {
    }

    /**
     * The peer's goodbye arrived (a WebSocket close frame, an MQTT 5 DISCONNECT from the server).
     *
     * @param generation the session
     * @param timestamp  when it was read
     * @param code       the code received
     * @param reason     the reason text, possibly empty
     */
    record CloseReceived(long generation, Instant timestamp, int code, String reason) implements LifecycleEvent {
    }

    /**
     * An established session ended.
     *
     * @param generation the session that ended
     * @param timestamp  when the engine learnt it
     * @param initiator  who caused it
     * @param code       the protocol code, or -1 when there is none (see {@link #protocolCode()})
     * @param cause      why it ended; null only after a user close that went cleanly
     */
    record Disconnected(long generation, Instant timestamp, Initiator initiator, int code, @Nullable Throwable cause)
            implements LifecycleEvent {
        /** @return the protocol code (close code, DISCONNECT reason code), if any */
        public OptionalInt protocolCode() {
            return code < 0 ? OptionalInt.empty() : OptionalInt.of(code);
        }

        /** @return why the session ended, if it did not end cleanly on the user's request */
        public Optional<Throwable> failure() {
            return Optional.ofNullable(cause);
        }
    }

    /**
     * An attempt failed or a session ended, and the next attempt is scheduled.
     *
     * @param generation  the generation that failed
     * @param timestamp   when the delay started counting: when the failure was reported (see {@link ReconnectPolicy})
     * @param nextAttempt the number the next attempt will have
     * @param delay       how long after {@code timestamp} it starts
     * @param verdict     how the failure was classified
     * @param cause       the failure
     */
    record RetryScheduled(long generation, Instant timestamp, int nextAttempt, Duration delay, Verdict verdict,
                          Throwable cause) implements LifecycleEvent {
    }

    /**
     * Terminal: the connection will not connect again.
     *
     * @param generation the last generation
     * @param timestamp  when it closed
     * @param cause      null after {@code close()}/{@code abort()}; otherwise a
     *                   {@link FatalConnectionException} or {@link RetriesExhaustedException}
     */
    record Closed(long generation, Instant timestamp, @Nullable Throwable cause) implements LifecycleEvent {
        /** @return the terminal error, if the connection did not close on the user's request */
        public Optional<Throwable> failure() {
            return Optional.ofNullable(cause);
        }
    }
}
