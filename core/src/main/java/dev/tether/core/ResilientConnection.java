package dev.tether.core;

import static dev.tether.core.internal.Require.positive;
import dev.tether.core.spi.Connector;
import dev.tether.core.internal.DefaultResilientConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A connection that keeps itself alive: it connects through a protocol {@link Connector},
 * reconnects after every failure its verdicts allow, and tells what happens on
 * {@link #lifecycle()}.
 *
 * <p>The first connect and every reconnect go through the same pipeline: ask the
 * {@link CredentialsProvider}, connect, and on failure classify, back off and try again.
 *
 * <pre>{@code
 * ResilientConnection<LineSession> conn = ResilientConnection.builder(connector)
 *         .endpoint(Endpoint.of("tcp://127.0.0.1:7000"))
 *         .credentials(tokens)
 *         .reconnect(ReconnectPolicy.builder().maxDelay(Duration.ofSeconds(10)).build())
 *         .build();
 * conn.lifecycle().subscribe(System.out::println);
 * conn.start();
 * }</pre>
 *
 * <p><b>How every stream ends.</b> When the connection reaches {@code CLOSED}, every stream it
 * handed out ends in the same step, by one rule:
 * <ul>
 *   <li>after a <em>user close</em> ({@link #close()}, {@link #abort()}, {@link #dispose()}), a stream
 *       that can end normally completes: {@link #lifecycle()}, {@link #onClosed()}, {@link #sessions()},
 *       {@link #perSession(Function)}, {@link ConnectionOperators#health(ResilientConnection)}. A wait for
 *       one value that can no longer come ({@link #session()}, {@link #awaitConnected(Duration)}, an
 *       element held by {@link ConnectionOperators#pauseWhileDisconnected(ResilientConnection)}) errors
 *       with a {@link ConnectionClosedException} whose cause is null;</li>
 *   <li>after a <em>terminal verdict</em> (a {@link FatalConnectionException} or a
 *       {@link RetriesExhaustedException}), every stream errors and the error leads to that terminal
 *       exception: {@link #lifecycle()} (after its {@code Closed} event) and {@link #onClosed()}, which
 *       report the verdict itself, error with the terminal exception as it is; every other stream
 *       errors with a {@link ConnectionClosedException} whose {@link Throwable#getCause() cause} is the
 *       terminal exception.</li>
 * </ul>
 * A subscriber that arrives after the end gets the same signal at once.
 *
 * <p>Thread-safe. {@link #dispose()} closes gracefully without waiting.
 *
 * @param <S> the protocol session type
 */
public interface ResilientConnection<S> extends Disposable {

    /**
     * @param connector the protocol
     * @param <S>       the protocol session type
     * @return a builder
     */
    static <S> Builder<S> builder(Connector<S> connector) {
        return new Builder<>(connector);
    }

    /** @return the name given at build time, used in logs and meters */
    String name();

    /**
     * Starts connecting, once; later calls do nothing. Returns at once.
     *
     * @return this connection
     */
    ResilientConnection<S> start();

    /**
     * How many lifecycle events wait for a subscriber's demand at most, per subscriber: see {@link #lifecycle()}.
     */
    int LIFECYCLE_BUFFER = 512;

    /**
     * How many established sessions wait for a subscriber's demand at most, per subscriber of {@link #sessions()};
     * beyond it the oldest (ended by then) are dropped.
     */
    int SESSIONS_BUFFER = 16;

    /**
     * The {@link LifecycleEvent.Notice#kind()} that stands for lifecycle events a subscriber let wait beyond
     * {@link #LIFECYCLE_BUFFER}; its details say how many were dropped.
     */
    String EVENTS_DROPPED_NOTICE = "lifecycle-events-dropped";

    /**
     * The lifecycle, hot: a new subscriber first receives the event that describes the current state
     * ({@code Idle}, {@code Connecting}, {@code Connected}, {@code RetryScheduled}, {@code CloseRequested}
     * or {@code Closed}), then every event as it happens. After {@code Closed} the stream completes,
     * or errors with the terminal exception itself ({@link FatalConnectionException},
     * {@link RetriesExhaustedException}) when the connection failed for good.
     *
     * <p>Events follow the subscriber's demand. A subscriber that does not request keeps at most
     * {@link #LIFECYCLE_BUFFER} events waiting; beyond that the oldest are dropped and, in their place, it
     * receives one {@link LifecycleEvent.Notice} of kind {@link #EVENTS_DROPPED_NOTICE} that says how many. The
     * newest events, {@code Closed} included, are never the ones dropped.
     *
     * @return the lifecycle events
     */
    Flux<LifecycleEvent> lifecycle();

    /** @return the current state */
    ConnectionState state();

    /** @return the current generation (0 before the first attempt) */
    long generation();

    /** @return the session if connected now */
    Optional<S> currentSession();

    /**
     * @return the current session, or the next one once connected; errors with
     *         {@link ConnectionClosedException} if the connection closes first (its cause is the
     *         terminal exception after a terminal verdict, null after a user close)
     */
    Mono<S> session();

    /**
     * @param timeout how long to wait
     * @return like {@link #session()} (including how it ends when the connection closes), failing with a {@link java.util.concurrent.TimeoutException} that
     *         says what the connection was doing when the time ran out
     */
    Mono<S> awaitConnected(Duration timeout);

    /**
     * @return every session as it is established, the current one first; completes after a user
     *         close, errors with a {@link ConnectionClosedException} caused by the terminal exception
     *         after a terminal verdict. Sessions follow the subscriber's demand; at most
     *         {@link #SESSIONS_BUFFER} wait for it, the oldest are dropped beyond that
     */
    Flux<S> sessions();

    /**
     * Runs work once per session: for each session, subscribes to {@code work.apply(session)} and
     * cancels it when that session ends. The results of all sessions are merged.
     *
     * @param work the work for one session
     * @param <T>  the result type
     * @return the merged results; completes after a user close, errors with a
     *         {@link ConnectionClosedException} caused by the terminal exception after a terminal
     *         verdict (the work of the last session is cancelled first)
     */
    <T> Flux<T> perSession(Function<? super S, ? extends Publisher<T>> work);

    /**
     * Closes gracefully: the protocol's goodbye, bounded by its timers. Lazy: nothing happens
     * until subscribed.
     *
     * @return completes when the connection is closed
     */
    default Mono<Void> close() {
        return close(CloseMode.GRACEFUL);
    }

    /**
     * Closes in the given mode; during an attempt or a backoff wait, it stops at once. Lazy.
     *
     * @param mode how to close the current session
     * @return completes when the connection is closed
     */
    Mono<Void> close(CloseMode mode);

    /**
     * Closes the transport at once, without a goodbye. Lazy.
     *
     * @return completes when the connection is closed
     */
    default Mono<Void> abort() {
        return close(CloseMode.ABORT);
    }

    /**
     * @return completes when the connection is closed by the user, or errors with the terminal
     *         exception itself ({@link FatalConnectionException}, {@link RetriesExhaustedException})
     */
    Mono<Void> onClosed();

    /**
     * Builds a {@link ResilientConnection}. Every setter validates at once; {@link #build()} checks
     * the whole.
     *
     * @param <S> the protocol session type
     */
    final class Builder<S> {

        /** Default bound on one attempt (credentials plus connect plus handshake): 30 s. */
        public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);
        /** Default bound on a graceful close before the transport is aborted: 10 s. */
        public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

        private final Connector<S> connector;
        private final List<Endpoint> endpoints = new ArrayList<>();
        /** The immutable list given to {@link #endpoints(List)}, kept as it is while no endpoint is added to it. */
        private @Nullable List<Endpoint> endpointsAsGiven;
        private CredentialsProvider credentials = CredentialsProvider.none();
        private ReconnectPolicy policy = ReconnectPolicy.defaults();
        private @Nullable FailureClassifier classifier;
        private Duration attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT;
        private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;
        private @Nullable Scheduler scheduler;
        private @Nullable DoubleSupplier random;
        private String name = "tether";

        private Builder(Connector<S> connector) {
            this.connector = Objects.requireNonNull(connector, "connector");
        }

        /**
         * @param endpoint an endpoint, added after those already given (failover order)
         * @return this builder
         */
        public Builder<S> endpoint(Endpoint endpoint) {
            endpoints.add(Objects.requireNonNull(endpoint, "endpoint"));
            endpointsAsGiven = null;
            return this;
        }

        /**
         * @param endpoints the endpoints in failover order, replacing those already given
         * @return this builder
         */
        public Builder<S> endpoints(List<Endpoint> endpoints) {
            Objects.requireNonNull(endpoints, "endpoints");
            this.endpoints.clear();
            endpoints.forEach(this::endpoint);
            // An immutable list is shared with the caller (who may keep it too) rather than copied again.
            endpointsAsGiven = List.copyOf(endpoints);
            return this;
        }

        /**
         * @param provider asked before every attempt; default {@link CredentialsProvider#none()}
         * @return this builder
         */
        public Builder<S> credentials(CredentialsProvider provider) {
            this.credentials = Objects.requireNonNull(provider, "credentials");
            return this;
        }

        /**
         * @param policy backoff and limits; default {@link ReconnectPolicy#defaults()}
         * @return this builder
         */
        public Builder<S> reconnect(ReconnectPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "reconnect");
            return this;
        }

        /**
         * @param classifier consulted before the connector's protocol defaults
         * @return this builder
         */
        public Builder<S> classifier(FailureClassifier classifier) {
            this.classifier = Objects.requireNonNull(classifier, "classifier");
            return this;
        }

        /**
         * @param timeout bound on one attempt; default {@link #DEFAULT_ATTEMPT_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder<S> attemptTimeout(Duration timeout) {
            this.attemptTimeout = positive("attemptTimeout", timeout);
            return this;
        }

        /**
         * @param timeout bound on a graceful close before the transport is aborted; default
         *                {@link #DEFAULT_CLOSE_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder<S> closeTimeout(Duration timeout) {
            this.closeTimeout = positive("closeTimeout", timeout);
            return this;
        }

        /**
         * @param scheduler timers and clock; default {@link Schedulers#parallel()} as of {@link #build()}
         *                  (so {@code StepVerifier.withVirtualTime} replaces it)
         * @return this builder
         */
        public Builder<S> scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * @param random source of jitter, uniformly distributed in {@code [0, 1)}; default
         *               {@link java.util.concurrent.ThreadLocalRandom}
         * @return this builder
         */
        public Builder<S> random(DoubleSupplier random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * @param name a name for logs, meters and the Resilience4j instances the connection puts in the
         *             registries of its {@link ReconnectPolicy}; default {@code tether}
         * @return this builder
         */
        public Builder<S> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * @return the connection, not yet started
         * @throws IllegalArgumentException if no endpoint was given
         * @throws IllegalStateException    if the policy's {@code RetryRegistry} already holds a {@code Retry}
         *                                  with this connection's name (connections sharing a registry need
         *                                  distinct names; a closed connection gives its name back)
         */
        public ResilientConnection<S> build() {
            if (endpoints.isEmpty()) {
                throw new IllegalArgumentException("endpoints must not be empty: give at least one endpoint(...)");
            }
            FailureClassifier protocol = connector.classifier();
            FailureClassifier chain = classifier == null ? protocol.orElse(FailureClassifier.defaults())
                    : classifier.orElse(protocol).orElse(FailureClassifier.defaults());
            DoubleSupplier rnd = random != null ? random : () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble();
            List<Endpoint> given = endpointsAsGiven;
            return new DefaultResilientConnection<>(name, connector, given != null ? given : List.copyOf(endpoints),
                    credentials, policy, chain,
                    attemptTimeout, closeTimeout, scheduler != null ? scheduler : Schedulers.parallel(), rnd);
        }

    }
}
