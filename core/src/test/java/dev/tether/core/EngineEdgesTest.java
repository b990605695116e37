package dev.tether.core;

import static dev.tether.core.ScriptedConnector.fail;
import static dev.tether.core.ScriptedConnector.hang;
import static dev.tether.core.ScriptedConnector.succeed;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The engine's edges: a shared circuit breaker across closes, abort during a graceful close, and
 * how every user stream ends after a terminal verdict or a user close. Virtual time throughout.
 */
class EngineEdgesTest {

    private static final Duration SHORT = Duration.ofSeconds(1);

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

    private static final ReconnectPolicy NO_JITTER = ReconnectPolicy.builder()
            .initialDelay(Duration.ofMillis(100)).multiplier(2).maxDelay(Duration.ofSeconds(2))
            .jitter(Jitter.NONE).stablePeriod(Duration.ofSeconds(5)).build();

    private ResilientConnection<ScriptedConnector.Session> connection(ScriptedConnector connector, ReconnectPolicy policy,
                                                                     String name) {
        ResilientConnection<ScriptedConnector.Session> c = ResilientConnection.builder(connector).name(name)
                .endpoint(Endpoint.of("tcp://127.0.0.1:1")).reconnect(policy).scheduler(vts)
                .closeTimeout(Duration.ofSeconds(30)).build();
        c.lifecycle().subscribe(events::add, e -> { });
        return c;
    }

    private static CircuitBreaker halfOpenBreakerWithOnePermission() {
        CircuitBreaker breaker = CircuitBreaker.of("shared", CircuitBreakerConfig.custom()
                .permittedNumberOfCallsInHalfOpenState(1).waitDurationInOpenState(Duration.ofSeconds(10)).build());
        breaker.transitionToOpenState();
        breaker.transitionToHalfOpenState();
        return breaker;
    }

    // ------------------------------------------------------------------ 1. shared circuit breaker

    @Test
    void closeDuringAHalfOpenAttemptGivesTheBreakerPermissionBack() {
        CircuitBreaker breaker = halfOpenBreakerWithOnePermission();
        ReconnectPolicy shared = NO_JITTER.toBuilder().circuitBreaker(breaker).build();
        ScriptedConnector hanging = new ScriptedConnector().then(hang());
        ResilientConnection<ScriptedConnector.Session> first = connection(hanging, shared, "first");
        first.start();
        assertThat(first.state()).isEqualTo(ConnectionState.CONNECTING);
        assertThat(breaker.getMetrics().getNumberOfNotPermittedCalls()).isZero();

        StepVerifier.create(first.close()).verifyComplete();
        assertThat(hanging.cancelledHangs).hasValue(1);

        ScriptedConnector healthy = new ScriptedConnector().otherwise(succeed());
        ResilientConnection<ScriptedConnector.Session> second = connection(healthy, shared, "second");
        second.start();
        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(second.state()).as("the half-open permission came back when the first connection closed; breaker %s",
                breaker.getState()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void aSessionEstablishedAfterCloseGivesTheBreakerPermissionBack() {
        CircuitBreaker breaker = halfOpenBreakerWithOnePermission();
        ReconnectPolicy shared = NO_JITTER.toBuilder().circuitBreaker(breaker).build();
        ScriptedConnector late = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> first = ResilientConnection.builder(late).name("first")
                .endpoint(Endpoint.of("tcp://127.0.0.1:1")).reconnect(shared).scheduler(vts).build();
        // The close is queued while the attempt is being made: the session arrives after the close.
        first.lifecycle().ofType(LifecycleEvent.Connecting.class).subscribe(c -> first.close().subscribe());
        first.start();
        assertThat(first.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(late.sessions).hasSize(1);
        assertThat(late.sessions.get(0).closeRequests).as("the late session is not leaked").containsExactly(CloseMode.ABORT);

        ScriptedConnector healthy = new ScriptedConnector().otherwise(succeed());
        ResilientConnection<ScriptedConnector.Session> second = connection(healthy, shared, "second");
        second.start();
        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(second.state()).as("breaker %s", breaker.getState()).isEqualTo(ConnectionState.CONNECTED);
    }

    // ------------------------------------------------------------------ 2. abort during a graceful close

    @Test
    void abortCutsADrainingGracefulCloseShortAtOnce() {
        ScriptedConnector connector = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "drain");
        c.start();
        ScriptedConnector.Session session = connector.sessions.get(0);
        session.slowGoodbye = true;
        AtomicBoolean gracefulDone = new AtomicBoolean();
        c.close().subscribe(null, e -> { }, () -> gracefulDone.set(true));
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSING);

        AtomicBoolean abortDone = new AtomicBoolean();
        c.abort().subscribe(null, e -> { }, () -> abortDone.set(true));
        // No virtual time passes: the abort does not wait for the 30 s close timeout.
        assertThat(session.closeRequests).containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(abortDone).isTrue();
        assertThat(gracefulDone).isTrue();
        assertThat(events).extracting(e -> e.getClass().getSimpleName()).containsExactly(
                "Idle", "Connecting", "Connected", "CloseRequested", "CloseSent", "CloseRequested", "Disconnected", "Closed");
        assertThat(events.stream().filter(e -> e instanceof LifecycleEvent.CloseRequested)
                .map(e -> ((LifecycleEvent.CloseRequested) e).mode()).toList()).containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
    }

    @Test
    void anAbortThatTheConnectorNeverReportsIsStillBounded() {
        ScriptedConnector connector = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "deaf");
        c.start();
        connector.sessions.get(0).deaf = true;
        c.close().subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(1));
        c.abort().subscribe();
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSING);
        vts.advanceTimeBy(Duration.ofSeconds(30));
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(connector.sessions.get(0).closeRequests).as("aborted once, not again by the close timer")
                .containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
    }

    @Test
    void aSecondGracefulCloseChangesNothing() {
        ScriptedConnector connector = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "twice");
        c.start();
        connector.sessions.get(0).slowGoodbye = true;
        c.close().subscribe();
        c.close(CloseMode.GRACEFUL_WITH_WILL).subscribe();
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.GRACEFUL);
        vts.advanceTimeBy(Duration.ofSeconds(30));
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
    }

    // ------------------------------------------------------------------ 3. user streams after the end

    private ScriptedConnector fatalAfterOneSession() {
        return new ScriptedConnector().then(succeed())
                .classifiedBy(f -> f.getMessage() != null && f.getMessage().contains("banned")
                        ? Optional.of(Verdict.fatal("the client was banned")) : Optional.empty());
    }

    @Test
    void afterAFatalVerdictSessionStreamsErrorWithTheCauseInsideConnectionClosed() {
        ScriptedConnector connector = fatalAfterOneSession();
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "banned");
        List<Long> sessions = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> sessionsEnd = new AtomicReference<>();
        AtomicReference<Throwable> perSessionEnd = new AtomicReference<>();
        AtomicBoolean completed = new AtomicBoolean();
        c.sessions().subscribe(s -> sessions.add(s.generation), sessionsEnd::set, () -> completed.set(true));
        c.perSession(s -> Flux.never()).subscribe(x -> { }, perSessionEnd::set, () -> completed.set(true));
        c.start();
        connector.sessions.get(0).dropByPeer(new IOException("banned by the server"));

        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(sessions).containsExactly(1L);
        assertThat(completed).as("no stream completes after a terminal verdict").isFalse();
        for (Throwable end : List.of(sessionsEnd.get(), perSessionEnd.get())) {
            assertThat(end).isInstanceOf(ConnectionClosedException.class).hasMessageContaining("the client was banned")
                    .cause().isInstanceOf(FatalConnectionException.class);
        }
        // Late subscribers get the same end.
        StepVerifier.create(c.sessions()).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(ConnectionClosedException.class).cause().isInstanceOf(FatalConnectionException.class)).verify(SHORT);
        StepVerifier.create(c.perSession(s -> Flux.just(1))).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(ConnectionClosedException.class).cause().isInstanceOf(FatalConnectionException.class)).verify(SHORT);
        StepVerifier.create(c.session()).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(ConnectionClosedException.class).cause().isInstanceOf(FatalConnectionException.class)).verify(SHORT);
        StepVerifier.create(Flux.just(1).transform(ConnectionOperators.pauseWhileDisconnected(c))).expectErrorSatisfies(e -> assertThat(e)
                .isInstanceOf(ConnectionClosedException.class).cause().isInstanceOf(FatalConnectionException.class)).verify(SHORT);
        // The streams that report the verdict itself carry it unwrapped.
        StepVerifier.create(c.onClosed()).expectError(FatalConnectionException.class).verify(SHORT);
        StepVerifier.create(c.lifecycle()).expectNextMatches(e -> e instanceof LifecycleEvent.Closed)
                .expectError(FatalConnectionException.class).verify(SHORT);
    }

    @Test
    void afterRetriesAreExhaustedPerSessionWorkErrorsWithTheCause() {
        ScriptedConnector connector = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER.toBuilder().maxAttempts(2).build(), "exhausted");
        c.start();
        StepVerifier.create(c.perSession(s -> Flux.<String>never()))
                .then(() -> connector.sessions.get(0).dropByPeer(new IOException("gone")))
                .then(() -> vts.advanceTimeBy(Duration.ofSeconds(10)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class)
                        .cause().isInstanceOf(RetriesExhaustedException.class))
                .verify(SHORT);
    }

    @Test
    void healthEndsDownThenErrorsAfterATerminalVerdict() {
        ScriptedConnector connector = fatalAfterOneSession();
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "health");
        c.start();
        StepVerifier.create(ConnectionOperators.health(c).map(Health::status))
                .expectNext(Health.Status.UP)
                .then(() -> connector.sessions.get(0).dropByPeer(new IOException("banned")))
                .thenConsumeWhile(s -> s == Health.Status.RECONNECTING)   // the disconnect, told before its verdict
                .expectNext(Health.Status.DOWN)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class)
                        .cause().isInstanceOf(FatalConnectionException.class))
                .verify(SHORT);
    }

    @Test
    void afterAUserCloseManyValueStreamsCompleteAndWaitsForOneValueError() {
        ScriptedConnector connector = new ScriptedConnector().then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "user");
        c.start();
        StepVerifier.create(c.perSession(s -> Flux.never()).mergeWith(c.sessions().then(Mono.empty())))
                .then(() -> c.close().subscribe())
                .verifyComplete();
        StepVerifier.create(c.sessions()).verifyComplete();
        StepVerifier.create(c.perSession(s -> Flux.just(1))).verifyComplete();
        StepVerifier.create(ConnectionOperators.health(c).map(Health::status)).expectNext(Health.Status.OUT_OF_SERVICE).verifyComplete();
        StepVerifier.create(c.onClosed()).verifyComplete();
        StepVerifier.create(c.lifecycle()).expectNextMatches(e -> e instanceof LifecycleEvent.Closed).verifyComplete();
        StepVerifier.create(c.session()).expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class)
                .hasNoCause()).verify(SHORT);
        StepVerifier.create(Flux.just(1).transform(ConnectionOperators.pauseWhileDisconnected(c)))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class).hasNoCause()).verify(SHORT);
    }

    @Test
    void aFatalFailureOfTheFirstAttemptEndsSessionWaitersWithTheCause() {
        ScriptedConnector connector = new ScriptedConnector().then(fail(new IllegalArgumentException("unknown scheme")));
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER, "misconfigured");
        StepVerifier.create(c.sessions())
                .then(c::start)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ConnectionClosedException.class)
                        .hasMessageContaining("unknown scheme").cause().isInstanceOf(FatalConnectionException.class))
                .verify(SHORT);
    }

    // ------------------------------------------------------------------ 5. no engine time on the backoff path

    @Test
    void aZeroBackoffStillTellsTheRetryBeforeTheAttempt() {
        ScriptedConnector connector = new ScriptedConnector().then(fail(new IOException("reset")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(connector, NO_JITTER.toBuilder()
                .initialDelay(Duration.ZERO).build(), "zero");
        // A subscriber that takes its time does not delay the timer, and still sees the events in order.
        c.lifecycle().ofType(LifecycleEvent.RetryScheduled.class).subscribe(r -> vts.advanceTimeBy(Duration.ZERO));
        c.start();
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Idle", "Connecting", "RetryScheduled", "Connecting", "Connected");
        assertThat(events).extracting(LifecycleEvent::generation).containsExactly(0L, 1L, 1L, 2L, 2L);
    }
}
