package dev.tether.core.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionClosedException;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Initiator;
import dev.tether.core.ConnectionState;
import dev.tether.core.spi.Connector;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.FailureClassifier;
import dev.tether.core.FatalConnectionException;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.RetriesExhaustedException;
import dev.tether.core.SessionEnd;
import dev.tether.core.Verdict;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The engine behind {@link ResilientConnection}. Every state change runs on a {@link SerialExecutor},
 * so the state machine has no locks and events come out in one total order.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class DefaultResilientConnection<S> implements ResilientConnection<S> {

    private static final Logger log = LoggerFactory.getLogger(DefaultResilientConnection.class);

    private final String name;
    private final Connector<S> connector;
    private final List<Endpoint> endpoints;
    private final CredentialsProvider credentialsProvider;
    private final ReconnectPolicy policy;
    private final FailureClassifier classifier;
    private final Duration attemptTimeout;
    private final Duration closeTimeout;
    private final Scheduler scheduler;
    /**
     * Whether {@link #scheduler} keeps real time: then a backoff counts from the moment the failure was reported
     * ({@link System#nanoTime()}), not from when the engine had handled it; a virtual-time scheduler's delays are
     * counted on its own clock alone.
     */
    private final boolean realTime;
    private final DoubleSupplier random;
    /**
     * The connection's Resilience4j {@code Retry}. With a {@link ReconnectPolicy#retryRegistry() registry} it is
     * created with the connection and lives in the registry until the close; without one nobody can see it, so it
     * is created at the first failure and kept from then on: a client that never failed holds no retry, its five
     * counters and its configuration, and one that reconnects does not build them again at every loss.
     */
    private @Nullable Retry retry;
    private final @Nullable RetryRegistry retryRegistry;
    private final @Nullable CircuitBreaker circuitBreaker;
    /** Set when the circuit breaker was created in the user's registry for this connection, which removes it at close. */
    private final @Nullable CircuitBreakerRegistry circuitBreakerRegistry;

    private final SerialExecutor serial = new SerialExecutor();
    // The engine's sinks are emitted to from serial tasks only: they need no serializing wrapper.
    private final Sinks.Empty<Void> closedSink = Sinks.unsafe().empty();

    // ---- state below is touched only inside serial tasks (volatile where read outside) ----
    private volatile ConnectionState state = ConnectionState.IDLE;
    private volatile long generation;
    private volatile @Nullable SessionScope<S> current;
    private LifecycleEvent stateEvent;
    private final List<SubscriberBuffer<LifecycleEvent>> lifecycleSubscribers = new ArrayList<>(0);
    // Null while empty, which they mostly are: sessions() subscribers are rare, and the waiters of session() and
    // awaitConnected() are handed their session on connect.
    private @Nullable List<SubscriberBuffer<SessionScope<S>>> sessionSubscribers;
    private @Nullable List<MonoSink<S>> sessionWaiters;
    private @Nullable Disposable attemptSubscription;
    private @Nullable Disposable backoffTimer;
    /**
     * When the current session was established (scheduler time). The backoff resets once a session stayed up
     * for the stable period; that is decided when the session ends, so no timer runs while a client is connected.
     */
    private long connectedAtMillis;
    private @Nullable Disposable closeTimer;
    private @Nullable Disposable gracefulClose;
    /** The close signal of the attempt under way (see {@link Attempt#closeRequested()}). */
    private Sinks.One<CloseMode> attemptClose = Sinks.unsafe().one();
    /** Set while a graceful close waits for the attempt under way to end (the connector closes attempts gracefully). */
    private boolean closingAttempt;
    /** A session that arrived while its attempt was being closed gracefully; closed in the same mode. */
    private @Nullable EstablishedSession<S> closingSession;
    private @Nullable CloseMode closeMode;
    /** Whether the current attempt holds a circuit-breaker permission not yet recorded or released. */
    private boolean permitHeld;
    /** The retry's account of the current streak; without a registry, null until the streak's first failure. */
    private Retry.@Nullable AsyncContext<Object> retryContext;
    /** The verdict of the failure being reported to the retry context (read by {@link #intervalMillis}). */
    private @Nullable Verdict pendingVerdict;
    /** Set when the engine gives up on the failure being reported; the retry context then reports an error. */
    private @Nullable Throwable givingUp;
    /** The delay {@link #intervalMillis} decided for the failure being reported, -1 to give up. */
    private long decidedDelay;
    private int failuresInStreak;
    private long streakStartMillis;
    private int endpointIndex;
    private @Nullable Endpoint redirectTarget;
    private boolean refreshNext;
    private @Nullable Verdict lastVerdict;
    private int sameVerdictCount;
    private @Nullable Throwable terminalCause;

    public DefaultResilientConnection(String name, Connector<S> connector, List<Endpoint> endpoints,
                                      CredentialsProvider credentialsProvider, ReconnectPolicy policy,
                                      FailureClassifier classifier, Duration attemptTimeout, Duration closeTimeout,
                                      Scheduler scheduler, DoubleSupplier random) {
        this.name = name;
        this.connector = connector;
        this.endpoints = endpoints;
        this.credentialsProvider = credentialsProvider;
        this.policy = policy;
        this.classifier = classifier;
        this.attemptTimeout = attemptTimeout;
        this.closeTimeout = closeTimeout;
        this.scheduler = scheduler;
        // A scheduler whose clock is the wall clock runs in real time; a virtual-time one (tests) starts near zero.
        this.realTime = Math.abs(scheduler.now(TimeUnit.MILLISECONDS) - System.currentTimeMillis()) < 60_000;
        this.random = random;
        RetryRegistry retries = policy.retryRegistry().orElse(null);
        CircuitBreakerRegistry breakers = policy.circuitBreakerRegistry().orElse(null);
        if (retries != null) {
            RetryConfig retryConfig = retryConfig();
            boolean[] created = {false};
            Retry registered = retries.retry(name, () -> {
                created[0] = true;
                return retryConfig;
            });
            if (!created[0]) {
                throw new IllegalStateException("the RetryRegistry already holds a Retry named '" + name
                        + "': give each connection that shares the registry its own name(...)");
            }
            this.retry = registered;
            this.retryContext = registered.asyncContext();
        }
        this.retryRegistry = retries;
        if (breakers == null) {
            this.circuitBreaker = policy.circuitBreaker().orElse(null);
            this.circuitBreakerRegistry = null;
        } else {
            // A breaker the user put in the registry under this name beforehand is used as it is (that is how
            // one connection gets a configuration of its own) and stays there; one created here is removed at close.
            boolean[] created = {false};
            this.circuitBreaker = breakers.circuitBreaker(name, () -> {
                created[0] = true;
                return breakers.getDefaultConfig();
            });
            this.circuitBreakerRegistry = created[0] ? breakers : null;
        }
        this.stateEvent = new LifecycleEvent.Idle(0, now());
    }

    private RetryConfig retryConfig() {
        return RetryConfig.custom()
                .maxAttempts(policy.maxAttempts() == 0 ? Integer.MAX_VALUE : policy.maxAttempts())
                .intervalBiFunction((failures, either) -> intervalMillis(failures, either.isLeft() ? either.getLeft() : null))
                .retryOnException(t -> true)
                .build();
    }

    /** @return the retry's account of the current streak, created (with the retry, without a registry) if needed */
    private Retry.AsyncContext<Object> retryContext() {
        Retry.AsyncContext<Object> context = retryContext;
        if (context == null) {
            Retry r = retry;
            if (r == null) {
                r = Retry.of(name, retryConfig());
                retry = r;
            }
            context = r.asyncContext();
            retryContext = context;
        }
        return context;
    }

    // ------------------------------------------------------------------ public API

    @Override
    public String name() {
        return name;
    }

    @Override
    public ResilientConnection<S> start() {
        serial.execute(() -> {
            if (state == ConnectionState.IDLE) {
                streakStartMillis = nowMillis();
                attemptNow();
            }
        });
        return this;
    }

    @Override
    public Flux<LifecycleEvent> lifecycle() {
        // One small object per subscriber, not Reactor's BUFFER strategy: see SubscriberBuffer.
        Publisher<LifecycleEvent> source = this::subscribeLifecycle;
        return Flux.from(source);
    }

    private void subscribeLifecycle(Subscriber<? super LifecycleEvent> subscriber) {
        SubscriberBuffer<LifecycleEvent> sink = new SubscriberBuffer<>(subscriber, LIFECYCLE_BUFFER) {
            @Override
            void onCancel() {
                serial.execute(() -> lifecycleSubscribers.remove(this));
            }

            @Override
            LifecycleEvent marker(long count) {
                return new LifecycleEvent.Notice(generation, now(), EVENTS_DROPPED_NOTICE, count + " lifecycle events were"
                        + " dropped here: this subscriber let more than " + LIFECYCLE_BUFFER + " wait unrequested, and the"
                        + " oldest go first");
            }
        };
        sink.start();
        serial.execute(() -> {
            if (sink.isCancelled()) {
                return;
            }
            sink.next(stateEvent);
            if (state == ConnectionState.CLOSED) {
                terminate(sink);
                return;
            }
            lifecycleSubscribers.add(sink);
        });
    }

    @Override
    public ConnectionState state() {
        return state;
    }

    @Override
    public long generation() {
        return generation;
    }

    @Override
    public Optional<S> currentSession() {
        SessionScope<S> scope = current;
        return scope == null ? Optional.empty() : Optional.of(scope.session());
    }

    @Override
    public Mono<S> session() {
        return Mono.create(sink -> {
            SessionScope<S> scope = current;
            if (scope != null) {
                sink.success(scope.session());
                return;
            }
            serial.execute(() -> {
                SessionScope<S> now = current;
                if (now != null) {
                    sink.success(now.session());
                } else if (state == ConnectionState.CLOSED) {
                    sink.error(closedError());
                } else {
                    sessionWaiters = added(sessionWaiters, sink);
                    sink.onDispose(() -> serial.execute(() -> {
                        List<MonoSink<S>> waiting = sessionWaiters;
                        if (waiting != null) {
                            waiting.remove(sink);
                        }
                    }));
                }
            });
        });
    }

    @Override
    public Mono<S> awaitConnected(Duration timeout) {
        return session().timeout(timeout, Mono.defer(() -> Mono.error(new TimeoutException(
                "connection '" + name + "' not connected within " + timeout.toMillis() + " ms; it was "
                        + state + " (last event: " + describe(stateEvent) + ")"))), scheduler);
    }

    @Override
    public Flux<S> sessions() {
        return scopes().map(SessionScope::session);
    }

    @Override
    public <T> Flux<T> perSession(Function<? super S, ? extends Publisher<T>> work) {
        return scopes().flatMap(scope -> Flux.from(work.apply(scope.session())).takeUntilOther(scope.ended()));
    }

    @Override
    public Mono<Void> close(CloseMode mode) {
        return Mono.defer(() -> {
            serial.execute(() -> requestClose(mode));
            return onClosed().onErrorResume(e -> Mono.empty());
        });
    }

    @Override
    public Mono<Void> onClosed() {
        return closedSink.asMono();
    }

    @Override
    public void dispose() {
        serial.execute(() -> requestClose(CloseMode.GRACEFUL));
    }

    @Override
    public boolean isDisposed() {
        ConnectionState s = state;
        return s == ConnectionState.CLOSED || s == ConnectionState.CLOSING;
    }

    @Override
    public String toString() {
        return "ResilientConnection{" + name + ", " + state + ", generation " + generation + "}";
    }

    // ------------------------------------------------------------------ attempts

    private void attemptNow() {
        long gen = ++generation;
        int number = failuresInStreak + 1;
        Endpoint endpoint = redirectTarget != null ? redirectTarget : endpoints.get(endpointIndex % endpoints.size());
        boolean refresh = refreshNext;
        state = ConnectionState.CONNECTING;
        emitState(new LifecycleEvent.Connecting(gen, now(), number, endpoint));
        log.debug("[{}] attempt {} (generation {}) to {}", name, number, gen, endpoint);

        if (circuitBreaker != null && !tryAcquirePermission(circuitBreaker)) {
            // The breaker is open: no attempt reaches the connector, and the next one waits the breaker out.
            Duration wait = Duration.ofMillis(circuitBreaker.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1));
            onAttemptFailed(gen, endpoint, new ConnectionFailedException("circuit breaker '" + circuitBreaker.getName()
                    + "' is " + circuitBreaker.getState() + ": attempt not made", dev.tether.core.Initiator.LOCAL_DETECTION, -1,
                    Verdict.retryAfter(wait), CallNotPermittedException.createCallNotPermittedException(circuitBreaker)), 0,
                    System.nanoTime());
            return;
        }
        permitHeld = circuitBreaker != null;
        Sinks.One<CloseMode> closeSignal = Sinks.unsafe().one();
        attemptClose = closeSignal;
        AttemptRun run = new AttemptRun(gen, number, endpoint, refresh, closeSignal);
        attemptSubscription = run;
        run.start();
    }

    /**
     * One attempt: the credentials, then the connector's session, under the attempt timeout. One object per attempt
     * and a subscriber for each of its two sources, where a chain of seven Reactor operators and a lambda subscriber
     * was assembled and subscribed on every reconnect: in a reconnect, whose code is seldom hot, that took about
     * 0.4 ms between the attempt's start and the connector's first line (docs/benchmarks.md). The outcome reaches
     * the engine through the serial executor, as before: a session, a failure, or the attempt timeout (whichever
     * comes first; a session that comes after the timeout or a cancel is closed, never leaked).
     */
    private final class AttemptRun implements Disposable {
        private final long gen;
        private final int number;
        private final Endpoint endpoint;
        private final boolean refresh;
        private final Sinks.One<CloseMode> closeSignal;
        private final long startNanos = System.nanoTime();
        private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        /** The source under way: the credentials', then the connector's. */
        private volatile @Nullable Subscription upstream;
        private volatile @Nullable Disposable timer;

        AttemptRun(long gen, int number, Endpoint endpoint, boolean refresh, Sinks.One<CloseMode> closeSignal) {
            this.gen = gen;
            this.number = number;
            this.endpoint = endpoint;
            this.refresh = refresh;
            this.closeSignal = closeSignal;
        }

        void start() {
            Publisher<Credentials> credentials;
            try {
                timer = scheduler.schedule(this::timedOut, attemptTimeout.toNanos(), TimeUnit.NANOSECONDS);
                credentials = java.util.Objects.requireNonNull(credentialsProvider.credentials(
                        new CredentialsRequest(number, endpoint, refresh)), "the credentials provider returned null, not a Mono");
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
            credentials.subscribe(new Step<Credentials>() {
                @Override
                void value(Credentials c) {
                    if (refresh) {
                        serial.execute(() -> {
                            if (gen == generation && state == ConnectionState.CONNECTING) {
                                emit(new LifecycleEvent.CredentialsRefreshed(gen, now(), "the peer refused the previous credentials"));
                            }
                        });
                    }
                    Publisher<EstablishedSession<S>> session;
                    try {
                        session = java.util.Objects.requireNonNull(connector.connect(new AttemptContext(gen, number,
                                endpoint, c, refresh, closeSignal)), "the connector returned null, not a Mono");
                    } catch (RuntimeException e) {
                        fail(e);
                        return;
                    }
                    session.subscribe(new Step<EstablishedSession<S>>() {
                        @Override
                        void value(EstablishedSession<S> est) {
                            succeed(est);
                        }

                        @Override
                        String emptyMessage() {
                            return "the connector completed without a session";
                        }
                    });
                }

                @Override
                String emptyMessage() {
                    return "the credentials provider completed without credentials";
                }
            });
        }

        private void succeed(EstablishedSession<S> est) {
            if (!done.compareAndSet(false, true)) {
                // Timed out or cancelled meanwhile: nobody takes this session.
                est.close(CloseMode.ABORT).subscribe(null, e -> { });
                return;
            }
            cancel(timer);
            long took = System.nanoTime() - startNanos;
            serial.execute(() -> onEstablished(gen, endpoint, est, took));
        }

        void fail(Throwable error) {
            if (!done.compareAndSet(false, true)) {
                log.debug("[{}] attempt {} already ended; dropped: {}", name, number, error.toString());
                return;
            }
            cancel(timer);
            long failedAt = System.nanoTime();
            serial.execute(() -> onAttemptFailed(gen, endpoint, error, failedAt - startNanos, failedAt));
        }

        private void timedOut() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            Subscription s = upstream;
            if (s != null) {
                s.cancel();
            }
            long failedAt = System.nanoTime();
            TimeoutException error = new TimeoutException("attempt " + number + " to " + endpoint + " did not complete within "
                    + attemptTimeout.toMillis() + " ms (attemptTimeout)");
            serial.execute(() -> onAttemptFailed(gen, endpoint, error, failedAt - startNanos, failedAt));
        }

        @Override
        public void dispose() {
            if (done.compareAndSet(false, true)) {
                cancel(timer);
                Subscription s = upstream;
                if (s != null) {
                    s.cancel();
                }
            }
        }

        @Override
        public boolean isDisposed() {
            return done.get();
        }

        /** A subscriber of one of the attempt's single-value sources. */
        private abstract class Step<T> implements CoreSubscriber<T> {
            private boolean received;

            abstract void value(T value);

            abstract String emptyMessage();

            @Override
            public void onSubscribe(Subscription s) {
                upstream = s;
                if (done.get()) {
                    s.cancel();
                    return;
                }
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(T value) {
                if (received) {
                    return;
                }
                received = true;
                if (done.get()) {
                    if (value instanceof EstablishedSession<?> late) {
                        late.close(CloseMode.ABORT).subscribe(null, e -> { });
                    }
                    return;
                }
                value(value);
            }

            @Override
            public void onError(Throwable t) {
                if (!received) {
                    fail(t);
                }
            }

            @Override
            public void onComplete() {
                if (!received) {
                    fail(new IllegalStateException(emptyMessage()));
                }
            }
        }
    }

    private void onEstablished(long gen, Endpoint endpoint, EstablishedSession<S> est, long tookNanos) {
        if (gen == generation && state == ConnectionState.CLOSING && closingAttempt && closeMode != CloseMode.ABORT) {
            // The attempt was asked to close gracefully and still delivered a session: close it in that mode.
            log.debug("[{}] generation {} established while closing; closing it {}", name, gen, closeMode);
            attemptSubscription = null;
            closingSession = est;
            CloseMode mode = closeMode;
            gracefulClose = est.close(mode == null ? CloseMode.GRACEFUL : mode).subscribe(null,
                    e -> serial.execute(() -> attemptClosed(gen)), () -> serial.execute(() -> attemptClosed(gen)));
            return;
        }
        if (gen != generation || state != ConnectionState.CONNECTING) {
            // The user closed (or a newer attempt began) while this one completed: do not leak it.
            log.debug("[{}] generation {} established after it was abandoned; closing it", name, gen);
            est.close(CloseMode.ABORT).subscribe(null, e -> { });
            return;
        }
        attemptSubscription = null;
        CircuitBreaker breaker = circuitBreaker;
        if (breaker != null && permitHeld) {
            permitHeld = false;
            guarded("circuit breaker", () -> breaker.onSuccess(tookNanos, TimeUnit.NANOSECONDS));
        }
        refreshNext = false;
        SessionScope<S> scope = new SessionScope<>(gen, est, Sinks.unsafe().empty());
        current = scope;
        state = ConnectionState.CONNECTED;
        // The call Resilience4j's retry accounts for succeeded: with retry after failures in this streak. Without
        // a registry and without failures there is no retry to tell (nobody could see it).
        Retry.AsyncContext<Object> context = retryContext;
        if (context != null) {
            guarded("retry", context::onComplete);
        }
        emitState(new LifecycleEvent.Connected(gen, now(), endpoint, est.details()));
        log.info("[{}] connected to {} (generation {}): {}", name, endpoint, gen, est.details());
        List<MonoSink<S>> waiters = sessionWaiters;
        sessionWaiters = null;
        if (waiters != null) {
            waiters.forEach(w -> w.success(est.session()));
        }
        List<SubscriberBuffer<SessionScope<S>>> scopeSubscribers = sessionSubscribers;
        if (scopeSubscribers != null) {
            new ArrayList<>(scopeSubscribers).forEach(s -> s.next(scope));
        }
        connectedAtMillis = nowMillis();
        est.terminated().subscribe(new SessionEndWatcher(gen));
    }

    /**
     * Waits for the end of one session: one object for as long as the session lives, where operators and lambdas
     * ({@code switchIfEmpty}, a lambda subscriber) took about 170 bytes per connected client.
     */
    private final class SessionEndWatcher implements CoreSubscriber<SessionEnd> {
        private final long gen;
        /** Signals come one at a time (Reactive Streams), so a plain field is enough. */
        private boolean ended;

        SessionEndWatcher(long gen) {
            this.gen = gen;
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(SessionEnd end) {
            ended = true;
            long at = System.nanoTime();
            serial.execute(() -> onTerminated(gen, end, at));
        }

        @Override
        public void onError(Throwable err) {
            ended = true;
            long at = System.nanoTime();
            serial.execute(() -> onTerminated(gen, SessionEnd.detected(err), at));
        }

        @Override
        public void onComplete() {
            if (!ended) {
                long at = System.nanoTime();
                serial.execute(() -> onTerminated(gen, SessionEnd.detected(new java.io.IOException("the session ended without saying why")), at));
            }
        }
    }

    private void resetStreak() {
        failuresInStreak = 0;
        Retry r = retry;
        if (retryRegistry != null && r != null) {
            retryContext = r.asyncContext();
        } else {
            // Without a registry the retry is nobody's to see; it is kept once made (building one took about 5% of a
            // cold reconnect's event-loop samples), and the next streak starts a new account with it.
            retryContext = null;
        }
        lastVerdict = null;
        sameVerdictCount = 0;
        streakStartMillis = nowMillis();
    }

    private void onTerminated(long gen, SessionEnd end, long endedAtNanos) {
        SessionScope<S> scope = current;
        if (gen != generation || scope == null || scope.generation() != gen) {
            log.debug("[{}] ignoring the end of old generation {} (current {})", name, gen, generation);
            return;
        }
        current = null;
        scope.endSignal().tryEmitEmpty();
        emit(new LifecycleEvent.Disconnected(gen, now(), end.initiator(), end.code(), end.cause()));
        if (state == ConnectionState.CLOSING) {
            finishClosed(null);
            return;
        }
        if (end.planned()) {
            reconnectAtOnce(gen);
            return;
        }
        if (nowMillis() - connectedAtMillis >= policy.stablePeriod().toMillis()) {
            log.debug("[{}] generation {} stayed up for {}; backoff reset", name, gen, policy.stablePeriod());
            resetStreak();
        }
        if (failuresInStreak == 0) {
            streakStartMillis = nowMillis();
        }
        Throwable cause = end.cause() != null ? end.cause()
                : new ConnectionFailedException("the session ended", end.initiator(), end.code(), null, null);
        log.info("[{}] disconnected (generation {}, {}): {}", name, gen, end.initiator(), cause.toString());
        handleFailure(gen, cause, endedAtNanos);
    }

    /**
     * A planned reconnect: the connector ended a healthy session to open the next one at once (for example
     * with a fresh token). No backoff, and not a failure: the streak starts afresh.
     */
    private void reconnectAtOnce(long gen) {
        log.info("[{}] planned reconnect (generation {}): next attempt at once", name, gen);
        resetStreak();
        state = ConnectionState.WAITING_TO_RETRY;
        Instant scheduledAt = now();
        backoffTimer = scheduler.schedule(() -> serial.execute(() -> {
            if (gen == generation && state == ConnectionState.WAITING_TO_RETRY) {
                backoffTimer = null;
                attemptNow();
            }
        }));
        emitState(new LifecycleEvent.RetryScheduled(gen, scheduledAt, 1, Duration.ZERO,
                Verdict.retry().withExplanation("planned reconnect: the next attempt starts at once"),
                new ConnectionFailedException("the session ended for a planned reconnect", Initiator.LOCAL_USER, -1, null, null)));
    }

    private void onAttemptFailed(long gen, Endpoint endpoint, Throwable error, long tookNanos, long failedAtNanos) {
        if (gen != generation) {
            return;
        }
        if (state == ConnectionState.CLOSING) {
            if (closingAttempt) {
                log.debug("[{}] generation {} ended while closing: {}", name, gen, error.toString());
            }
            finishClosed(null);
            return;
        }
        if (state != ConnectionState.CONNECTING) {
            return;
        }
        attemptSubscription = null;
        CircuitBreaker breaker = circuitBreaker;
        if (breaker != null && permitHeld) {
            permitHeld = false;
            guarded("circuit breaker", () -> breaker.onError(tookNanos, TimeUnit.NANOSECONDS, error));
        }
        if (redirectTarget != null && redirectTarget.equals(endpoint)) {
            redirectTarget = null; // the redirect target failed: back to the configured list
        } else {
            endpointIndex++;
        }
        log.info("[{}] attempt to {} failed (generation {}): {}", name, endpoint, gen, error.toString());
        handleFailure(gen, error, failedAtNanos);
    }

    /**
     * @param failedAtNanos when the failure was reported ({@link System#nanoTime()}): the backoff counts from there
     */
    private void handleFailure(long gen, Throwable error, long failedAtNanos) {
        Verdict verdict = classifier.classify(error).orElseGet(Verdict::retry);
        if (lastVerdict != null && verdict.equals(lastVerdict)) {
            sameVerdictCount++;
        } else {
            lastVerdict = verdict;
            sameVerdictCount = 1;
        }
        failuresInStreak++;
        if (verdict.kind() == Verdict.Kind.FATAL) {
            givingUp = new FatalConnectionException("connection '" + name + "' gave up: " + verdict.explanation()
                    + " (cause: " + error + ")", verdict, error);
        } else if (verdict.maxConsecutive().isPresent() && sameVerdictCount > verdict.maxConsecutive().getAsInt()) {
            givingUp = new RetriesExhaustedException("connection '" + name + "' gave up after " + sameVerdictCount
                    + " failures in a row classified " + verdict + "; last: " + error, failuresInStreak, error);
        }
        // Resilience4j's retry decides with us: it counts the failure, enforces maxAttempts, asks
        // intervalMillis for the delay (where maxElapsed and the verdict's minimum apply) and tells its
        // event consumers about the retry or the end, with the real failure.
        pendingVerdict = verdict;
        decidedDelay = -1;
        long delayMillis;
        try {
            delayMillis = retryContext().onError(error);
        } catch (RuntimeException consumerFailure) {
            log.warn("[{}] a Resilience4j retry event consumer failed: {}", name, consumerFailure.toString());
            delayMillis = givingUp != null ? -1 : decidedDelay;
        }
        Throwable terminal = givingUp;
        pendingVerdict = null;
        givingUp = null;
        if (delayMillis < 0) {
            finishClosed(terminal != null ? terminal : new RetriesExhaustedException("connection '" + name + "' gave up after "
                    + failuresInStreak + " attempts (maxAttempts " + policy.maxAttempts() + "); last failure: " + error
                    + ". Raise ReconnectPolicy.maxAttempts or fix the cause.", failuresInStreak, error));
            return;
        }
        Duration delay = Duration.ofMillis(delayMillis);
        switch (verdict.kind()) {
            case REFRESH_CREDENTIALS_THEN_RETRY -> refreshNext = true;
            case REDIRECT -> redirectTarget = verdict.redirectTarget().orElse(null);
            default -> { }
        }
        state = ConnectionState.WAITING_TO_RETRY;
        // The backoff counts from the moment the failure was reported, not from here: the engine's own handling
        // (the verdict, Resilience4j's retry and its events, the Disconnected event) is not added to the delay.
        // The timer starts before subscribers and the log are told of the retry; the attempt still comes after
        // the event, because the timer's task is serial too. The event carries the time the backoff started
        // counting, so "scheduled at + delay" is never later than the attempt.
        long handledNanos = realTime ? Math.max(0, System.nanoTime() - failedAtNanos) : 0;
        long waitNanos = Math.max(0, TimeUnit.MILLISECONDS.toNanos(delayMillis) - handledNanos);
        Instant scheduledAt = now().minusNanos(handledNanos);
        backoffTimer = scheduler.schedule(() -> serial.execute(() -> {
            if (gen == generation && state == ConnectionState.WAITING_TO_RETRY) {
                backoffTimer = null;
                attemptNow();
            }
        }), waitNanos, TimeUnit.NANOSECONDS);
        emitState(new LifecycleEvent.RetryScheduled(gen, scheduledAt, failuresInStreak + 1, delay, verdict, error));
        log.info("[{}] retry {} in {} ms ({})", name, failuresInStreak + 1, delayMillis, verdict);
    }

    /**
     * The delay before the next attempt after {@code failures} failures in a row, as Resilience4j's
     * {@code IntervalBiFunction}: the policy's backoff, at least the verdict's minimum; -1 (give up)
     * when the engine already decided to, or when waiting would exceed {@code maxElapsed}.
     */
    private long intervalMillis(int failures, @Nullable Throwable error) {
        if (givingUp != null) {
            return decidedDelay = -1;
        }
        Duration d = policy.delay(failures, random.getAsDouble());
        Verdict verdict = pendingVerdict;
        if (verdict != null && d.compareTo(verdict.minimumDelay()) < 0) {
            d = verdict.minimumDelay();
        }
        Optional<Duration> maxElapsed = policy.maxElapsed();
        if (maxElapsed.isPresent() && nowMillis() + d.toMillis() - streakStartMillis > maxElapsed.get().toMillis()) {
            givingUp = new RetriesExhaustedException("connection '" + name + "' gave up: reconnecting would exceed maxElapsed "
                    + maxElapsed.get() + " after " + failuresInStreak + " attempts; last failure: " + error,
                    failuresInStreak, error);
            return decidedDelay = -1;
        }
        return decidedDelay = d.toMillis();
    }

    // ------------------------------------------------------------------ closing

    private void requestClose(CloseMode mode) {
        if (state == ConnectionState.CLOSING && mode == CloseMode.ABORT && closeMode != CloseMode.ABORT) {
            // An abort while a graceful close drains cuts it short: the transport is closed now.
            closeMode = CloseMode.ABORT;
            emitState(new LifecycleEvent.CloseRequested(generation, now(), mode));
            if (closingAttempt) {
                abortClosingAttempt(null);
                return;
            }
            SessionScope<S> scope = current;
            if (scope != null) {
                log.debug("[{}] abort requested during a graceful close", name);
                abortSession(scope);
            }
            return;
        }
        switch (state) {
            case CLOSING, CLOSED -> {
                return;
            }
            default -> { }
        }
        ConnectionState was = state;
        state = ConnectionState.CLOSING;
        closeMode = mode;
        emitState(new LifecycleEvent.CloseRequested(generation, now(), mode));
        switch (was) {
            case IDLE -> finishClosed(null);
            case CONNECTING -> {
                if (mode != CloseMode.ABORT && connector.closesAttemptsGracefully()) {
                    // The connector ends the attempt itself (e.g. MQTT waits for CONNACK and sends DISCONNECT, so
                    // the broker discards the Will), bounded by the closeTimeout.
                    closingAttempt = true;
                    long gen = generation;
                    closeTimer = scheduler.schedule(() -> serial.execute(() -> {
                        if (state == ConnectionState.CLOSING && closingAttempt && gen == generation) {
                            abortClosingAttempt("the attempt did not end within " + closeTimeout.toMillis()
                                    + " ms (closeTimeout) after a graceful close was requested; aborted");
                        }
                    }), closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
                    attemptClose.tryEmitValue(mode);
                    return;
                }
                cancel(attemptSubscription);
                attemptSubscription = null;
                finishClosed(null);
            }
            case WAITING_TO_RETRY -> {
                cancel(backoffTimer);
                backoffTimer = null;
                finishClosed(null);
            }
            case CONNECTED -> {
                SessionScope<S> scope = current;
                if (scope == null) {
                    finishClosed(null);
                    return;
                }
                if (mode == CloseMode.ABORT) {
                    abortSession(scope);
                    return;
                }
                long gen = scope.generation();
                closeTimer = scheduler.schedule(() -> serial.execute(() -> {
                    if (state == ConnectionState.CLOSING && current == scope && closeMode != CloseMode.ABORT) {
                        log.warn("[{}] graceful close did not finish within {} (closeTimeout); aborting", name, closeTimeout);
                        closeMode = CloseMode.ABORT;
                        abortSession(scope);
                    }
                }), closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
                gracefulClose = scope.established().close(mode).subscribe(null,
                        err -> serial.execute(() -> onTerminated(gen, SessionEnd.byUser(-1, err), System.nanoTime())));
            }
            default -> { }
        }
    }

    /** A session that arrived during a graceful close of its attempt has been closed. */
    private void attemptClosed(long gen) {
        if (gen == generation && state == ConnectionState.CLOSING) {
            finishClosed(null);
        }
    }

    /** Gives up on a graceful close of the attempt under way: the attempt is cancelled, its session aborted. */
    private void abortClosingAttempt(@Nullable String why) {
        if (why != null) {
            log.warn("[{}] {}", name, why);
            emit(new LifecycleEvent.Notice(generation, now(), "close-aborted", why));
        }
        cancel(gracefulClose);
        gracefulClose = null;
        EstablishedSession<S> late = closingSession;
        closingSession = null;
        if (late != null) {
            late.close(CloseMode.ABORT).subscribe(null, e -> { });
        }
        finishClosed(null);
    }

    /**
     * Closes the session's transport at once: a graceful close still running is cancelled, and a
     * connector that never reports the end is given up on after one more {@code closeTimeout}.
     */
    private void abortSession(SessionScope<S> scope) {
        long gen = scope.generation();
        cancel(closeTimer);
        cancel(gracefulClose);
        gracefulClose = null;
        // Last resort: a connector that never reports the end must not keep close() waiting forever.
        closeTimer = scheduler.schedule(() -> serial.execute(() -> {
            if (state == ConnectionState.CLOSING && current == scope) {
                log.error("[{}] the connector did not report the end of generation {} even after an abort", name, gen);
                onTerminated(gen, SessionEnd.byUser(-1, new java.io.IOException(
                        "the transport did not report its closure within the closeTimeout after an abort")), System.nanoTime());
            }
        }), closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
        scope.established().close(CloseMode.ABORT).subscribe(null,
                err -> serial.execute(() -> onTerminated(gen, SessionEnd.byUser(-1, err), System.nanoTime())));
    }

    private void finishClosed(@Nullable Throwable cause) {
        if (state == ConnectionState.CLOSED) {
            return;
        }
        state = ConnectionState.CLOSED;
        terminalCause = cause;
        cancel(backoffTimer);
        cancel(closeTimer);
        cancel(attemptSubscription);
        backoffTimer = closeTimer = attemptSubscription = null;
        closingAttempt = false;
        releasePermit();
        unregister();
        emitState(new LifecycleEvent.Closed(generation, now(), cause));
        if (cause != null) {
            log.warn("[{}] closed for good: {}", name, cause.getMessage());
        } else {
            log.info("[{}] closed", name);
        }
        List<SubscriberBuffer<LifecycleEvent>> subs = new ArrayList<>(lifecycleSubscribers);
        lifecycleSubscribers.clear();
        subs.forEach(this::terminate);
        List<SubscriberBuffer<SessionScope<S>>> sessionSubs = sessionSubscribers != null ? sessionSubscribers : List.of();
        sessionSubscribers = null;
        sessionSubs.forEach(this::terminateScopes);
        List<MonoSink<S>> waiters = sessionWaiters != null ? sessionWaiters : List.of();
        sessionWaiters = null;
        waiters.forEach(w -> w.error(closedError()));
        try {
            connector.closed(cause);
        } catch (RuntimeException e) {
            log.warn("[{}] the connector failed when told of the close: {}", name, e.toString());
        }
        if (cause == null) {
            closedSink.tryEmitEmpty();
        } else {
            closedSink.tryEmitError(cause);
        }
    }

    /**
     * An attempt abandoned by a close is neither a success nor a failure: its circuit-breaker
     * permission goes back, or a half-open breaker shared with other connections would wait forever
     * for the outcome of a call that never ends. A session that arrives after the close finds the
     * permission already returned and is aborted without touching the breaker.
     */
    private void releasePermit() {
        CircuitBreaker breaker = circuitBreaker;
        if (breaker != null && permitHeld) {
            permitHeld = false;
            guarded("circuit breaker", breaker::releasePermission);
        }
    }

    /**
     * Takes this connection's own Resilience4j instances out of the user's registries, so that their
     * meters go away and the name can be used again; an instance someone replaced is left alone.
     */
    private void unregister() {
        RetryRegistry retries = retryRegistry;
        Retry own = retry;
        if (retries != null && own != null && retries.find(name).filter(r -> r == own).isPresent()) {
            retries.remove(name);
        }
        CircuitBreakerRegistry breakers = circuitBreakerRegistry;
        if (breakers != null && breakers.find(name).filter(b -> b == circuitBreaker).isPresent()) {
            breakers.remove(name);
        }
    }

    private boolean tryAcquirePermission(CircuitBreaker breaker) {
        try {
            return breaker.tryAcquirePermission();
        } catch (RuntimeException e) {
            // Thrown by an event consumer: whether a permission was taken is unknown, so none is assumed.
            log.warn("[{}] a Resilience4j circuit breaker event consumer failed: {}", name, e.toString());
            return false;
        }
    }

    /** Resilience4j calls its event consumers on our thread: a failing consumer must not stop the engine. */
    private void guarded(String what, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.warn("[{}] a Resilience4j {} event consumer failed: {}", name, what, e.toString());
        }
    }

    private void terminate(SubscriberBuffer<LifecycleEvent> sink) {
        if (terminalCause != null) {
            sink.error(terminalCause);
        } else {
            sink.complete();
        }
    }

    /** Streams of sessions complete after a user close and error with {@link #closedError()} after a terminal verdict. */
    private void terminateScopes(SubscriberBuffer<SessionScope<S>> sink) {
        if (terminalCause != null) {
            sink.error(closedError());
        } else {
            sink.complete();
        }
    }

    private ConnectionClosedException closedError() {
        return new ConnectionClosedException(terminalCause == null ? "connection '" + name + "' is closed"
                : "connection '" + name + "' closed for good: " + terminalCause.getMessage(), terminalCause);
    }

    // ------------------------------------------------------------------ plumbing

    private Flux<SessionScope<S>> scopes() {
        Publisher<SessionScope<S>> source = this::subscribeScopes;
        return Flux.from(source);
    }

    private void subscribeScopes(Subscriber<? super SessionScope<S>> subscriber) {
        // Unrequested sessions beyond the bound are old ones, ended by the time the subscriber asks.
        SubscriberBuffer<SessionScope<S>> sink = new SubscriberBuffer<>(subscriber, SESSIONS_BUFFER) {
            @Override
            void onCancel() {
                serial.execute(() -> {
                    List<SubscriberBuffer<SessionScope<S>>> subs = sessionSubscribers;
                    if (subs != null) {
                        subs.remove(this);
                    }
                });
            }
        };
        sink.start();
        serial.execute(() -> {
            if (sink.isCancelled()) {
                return;
            }
            if (state == ConnectionState.CLOSED) {
                terminateScopes(sink);
                return;
            }
            SessionScope<S> scope = current;
            if (scope != null) {
                sink.next(scope);
            }
            sessionSubscribers = added(sessionSubscribers, sink);
        });
    }

    private void emitState(LifecycleEvent event) {
        stateEvent = event;
        emit(event);
    }

    private void emit(LifecycleEvent event) {
        for (SubscriberBuffer<LifecycleEvent> sink : new ArrayList<>(lifecycleSubscribers)) {
            sink.next(event);
        }
    }

    private static <T> List<T> added(@Nullable List<T> list, T item) {
        List<T> l = list != null ? list : new ArrayList<>(1);
        l.add(item);
        return l;
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }

    private long nowMillis() {
        return scheduler.now(TimeUnit.MILLISECONDS);
    }

    private Instant now() {
        return Instant.ofEpochMilli(nowMillis());
    }

    private static String describe(LifecycleEvent e) {
        if (e instanceof LifecycleEvent.RetryScheduled r) {
            return "retry " + r.nextAttempt() + " scheduled after " + r.cause();
        }
        return e.getClass().getSimpleName();
    }

    /** One established session and the signal that it ended. */
    private record SessionScope<S>(long generation, EstablishedSession<S> established, Sinks.Empty<Void> endSignal) {
        S session() {
            return established.session();
        }

        Mono<Void> ended() {
            return endSignal.asMono();
        }
    }

    /** The attempt handed to the connector; its reports are dropped once the generation is stale. */
    private final class AttemptContext implements Attempt {
        private final long gen;
        private final int number;
        private final Endpoint endpoint;
        private final Credentials credentials;
        private final boolean refreshed;
        private final Sinks.One<CloseMode> closeSignal;

        AttemptContext(long gen, int number, Endpoint endpoint, Credentials credentials, boolean refreshed,
                       Sinks.One<CloseMode> closeSignal) {
            this.closeSignal = closeSignal;
            this.gen = gen;
            this.number = number;
            this.endpoint = endpoint;
            this.credentials = credentials;
            this.refreshed = refreshed;
        }

        @Override
        public long generation() {
            return gen;
        }

        @Override
        public int number() {
            return number;
        }

        @Override
        public Endpoint endpoint() {
            return endpoint;
        }

        @Override
        public Credentials credentials() {
            return credentials;
        }

        @Override
        public boolean credentialsRefreshed() {
            return refreshed;
        }

        @Override
        public Scheduler scheduler() {
            return scheduler;
        }

        @Override
        public Mono<CloseMode> closeRequested() {
            return closeSignal.asMono();
        }

        @Override
        public void reportCloseSent(int code, String reason) {
            report(new LifecycleEvent.CloseSent(gen, now(), code, reason));
        }

        @Override
        public void reportCloseReceived(int code, String reason) {
            report(new LifecycleEvent.CloseReceived(gen, now(), code, reason));
        }

        @Override
        public void reportNotice(String kind, Object details) {
            report(new LifecycleEvent.Notice(gen, now(), kind, details));
        }

        private void report(LifecycleEvent event) {
            serial.execute(() -> {
                // Events of the generation being closed still belong to its story; older ones do not.
                if (event.generation() == generation && state != ConnectionState.CLOSED) {
                    emit(event);
                }
            });
        }

        @Override
        public String toString() {
            return "Attempt{generation=" + gen + ", number=" + number + ", endpoint=" + endpoint + ", credentials=" + credentials + "}";
        }
    }
}
