package dev.tether.core;

import static dev.tether.core.ScriptedConnector.fail;
import static dev.tether.core.ScriptedConnector.hang;
import static dev.tether.core.ScriptedConnector.succeed;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class EngineVirtualTimeTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final ScriptedConnector connector = new ScriptedConnector();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

    private static final ReconnectPolicy NO_JITTER = ReconnectPolicy.builder()
            .initialDelay(Duration.ofMillis(100)).multiplier(2).maxDelay(Duration.ofSeconds(2))
            .jitter(Jitter.NONE).stablePeriod(Duration.ofSeconds(5)).build();

    private ResilientConnection<ScriptedConnector.Session> connection(ReconnectPolicy policy) {
        return connection(ResilientConnection.builder(connector).reconnect(policy));
    }

    private ResilientConnection<ScriptedConnector.Session> connection(ResilientConnection.Builder<ScriptedConnector.Session> b) {
        ResilientConnection<ScriptedConnector.Session> c = b.endpoint(Endpoint.of("tcp://127.0.0.1:1"))
                .scheduler(vts).build();
        c.lifecycle().subscribe(events::add, e -> { });
        return c;
    }

    private List<Duration> retryDelays() {
        return events.stream().filter(e -> e instanceof LifecycleEvent.RetryScheduled)
                .map(e -> ((LifecycleEvent.RetryScheduled) e).delay()).toList();
    }

    private <T extends LifecycleEvent> List<T> eventsOf(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Test
    void delaySequenceGrowsExponentiallyUpToTheCap() {
        StepVerifier.withVirtualTime(() -> {
                    ResilientConnection<ScriptedConnector.Session> c = ResilientConnection.builder(connector)
                            .endpoint(Endpoint.of("tcp://127.0.0.1:1")).reconnect(NO_JITTER).build();
                    c.start();
                    return c.lifecycle().ofType(LifecycleEvent.RetryScheduled.class).map(r -> r.delay().toMillis()).take(7);
                })
                .expectSubscription()
                .expectNext(100L)
                .thenAwait(Duration.ofMillis(100)).expectNext(200L)
                .thenAwait(Duration.ofMillis(200)).expectNext(400L)
                .thenAwait(Duration.ofMillis(400)).expectNext(800L)
                .thenAwait(Duration.ofMillis(800)).expectNext(1600L)
                .thenAwait(Duration.ofMillis(1600)).expectNext(2000L)
                .thenAwait(Duration.ofMillis(2000)).expectNext(2000L)
                .verifyComplete();
    }

    @Test
    void noAttemptHappensBeforeItsDelayHasPassed() {
        connection(NO_JITTER).start();
        assertThat(connector.attempts).hasSize(1);
        vts.advanceTimeBy(Duration.ofMillis(99));
        assertThat(connector.attempts).hasSize(1);
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(connector.attempts).hasSize(2);
        vts.advanceTimeBy(Duration.ofMillis(199));
        assertThat(connector.attempts).hasSize(2);
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(connector.attempts).hasSize(3);
    }

    @Test
    void fullJitterDelaysStayWithinTheirBounds() {
        ReconnectPolicy full = NO_JITTER.toBuilder().jitter(Jitter.FULL).build();
        connection(ResilientConnection.builder(connector).reconnect(full).random(new java.util.Random(7)::nextDouble)).start();
        vts.advanceTimeBy(Duration.ofSeconds(60));
        List<Duration> delays = retryDelays();
        assertThat(delays).hasSizeGreaterThan(25);
        for (int i = 0; i < delays.size(); i++) {
            assertThat(delays.get(i)).isBetween(Duration.ZERO, full.bound(i + 1));
        }
        assertThat(delays.stream().distinct().count()).as("jittered, not a fixed sequence").isGreaterThan(delays.size() * 3L / 4);
    }

    @Test
    void jitterSourceIsInjectable() {
        connection(ResilientConnection.builder(connector).random(() -> 0.5)
                .reconnect(NO_JITTER.toBuilder().jitter(Jitter.FULL).build())).start();
        vts.advanceTimeBy(Duration.ofMillis(50 + 100 + 200));
        assertThat(retryDelays()).startsWith(Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
    }

    @Test
    void verdictMinimumDelayWinsOverShorterBackoff() {
        connector.classifiedBy(f -> f.getMessage().contains("rate") ? Optional.of(Verdict.retryAfter(Duration.ofSeconds(5))) : Optional.empty())
                .then(fail(new IOException("connection rate exceeded")), fail(new IOException("reset")));
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(retryDelays()).startsWith(Duration.ofSeconds(5), Duration.ofMillis(200));
    }

    @Test
    void maxAttemptsEndsWithRetriesExhausted() {
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER.toBuilder().maxAttempts(3).build());
        c.start();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(connector.attempts).hasSize(3);
        LifecycleEvent last = events.get(events.size() - 1);
        assertThat(last).isInstanceOf(LifecycleEvent.Closed.class);
        Throwable cause = ((LifecycleEvent.Closed) last).cause();
        assertThat(cause).isInstanceOf(RetriesExhaustedException.class).hasMessageContaining("3 attempts")
                .hasMessageContaining("maxAttempts").hasCauseInstanceOf(IOException.class);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        StepVerifier.create(c.onClosed()).expectError(RetriesExhaustedException.class).verify(Duration.ofSeconds(1));
        StepVerifier.create(c.session()).expectError(ConnectionClosedException.class).verify(Duration.ofSeconds(1));
    }

    @Test
    void maxElapsedEndsTheStreak() {
        connection(NO_JITTER.toBuilder().maxElapsed(Duration.ofSeconds(1)).build()).start();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        // 100 + 200 + 400 = 700 ms fits, the next 800 ms would end after 1.5 s.
        assertThat(connector.attempts).hasSize(4);
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause())
                .isInstanceOf(RetriesExhaustedException.class).hasMessageContaining("maxElapsed");
    }

    @Test
    void cappedVerdictGivesUpAfterItsLimit() {
        connector.classifiedBy(f -> Optional.of(Verdict.retry().withMaxConsecutive(2)));
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(connector.attempts).hasSize(3);
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause())
                .isInstanceOf(RetriesExhaustedException.class).hasMessageContaining("in a row");
    }

    @Test
    void fatalVerdictFailsFastWithAClearError() {
        connector.classifiedBy(f -> Optional.of(Verdict.fatal("the broker does not support this protocol version; configure MQTT 3.1.1")));
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        vts.advanceTimeBy(Duration.ofMinutes(5));
        assertThat(connector.attempts).hasSize(1);
        assertThat(eventsOf(LifecycleEvent.RetryScheduled.class)).isEmpty();
        Throwable cause = ((LifecycleEvent.Closed) events.get(events.size() - 1)).cause();
        assertThat(cause).isInstanceOf(FatalConnectionException.class).hasMessageContaining("configure MQTT 3.1.1");
        StepVerifier.create(c.lifecycle()).expectNextMatches(e -> e instanceof LifecycleEvent.Closed)
                .expectError(FatalConnectionException.class).verify(Duration.ofSeconds(1));
    }

    @Test
    void misconfigurationIsFatalByDefault() {
        connector.then(fail(new IllegalArgumentException("unknown scheme 'tcpx'")));
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(connector.attempts).hasSize(1);
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause()).hasMessageContaining("tcpx");
    }

    @Test
    void anOpenCircuitBreakerStopsAttemptsUntilItsWaitIsOver() {
        java.time.Clock virtualClock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(vts.now(java.util.concurrent.TimeUnit.MILLISECONDS));
            }
        };
        io.github.resilience4j.circuitbreaker.CircuitBreaker breaker = io.github.resilience4j.circuitbreaker.CircuitBreaker.of("broker",
                io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom().slidingWindowSize(3).minimumNumberOfCalls(3)
                        .failureRateThreshold(100).waitDurationInOpenState(Duration.ofSeconds(10)).clock(virtualClock)
                        .permittedNumberOfCallsInHalfOpenState(1).build());
        connector.then(fail(new IOException("down")), fail(new IOException("down")), fail(new IOException("down"))).otherwise(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER.toBuilder().circuitBreaker(breaker).build());
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100 + 200));           // three real failures: the breaker opens
        assertThat(connector.attempts).hasSize(3);
        vts.advanceTimeBy(Duration.ofMillis(400));                  // the 4th attempt is refused by the breaker
        assertThat(connector.attempts).hasSize(3);
        LifecycleEvent.RetryScheduled refused = eventsOf(LifecycleEvent.RetryScheduled.class).get(3);
        assertThat(refused.cause()).hasMessageContaining("circuit breaker 'broker' is OPEN");
        assertThat(refused.delay()).isGreaterThanOrEqualTo(Duration.ofSeconds(10));
        vts.advanceTimeBy(Duration.ofSeconds(10));                  // half open: one attempt goes through and succeeds
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(connector.attempts).hasSize(4);
    }

    @Test
    void aProgrammingErrorIsFatalRatherThanALoop() {
        connector.then(fail(new NullPointerException("protocols")));
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(connector.attempts).hasSize(1);
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause())
                .isInstanceOf(FatalConnectionException.class).hasMessageContaining("programming error").hasMessageContaining("NullPointerException");
    }

    @Test
    void backoffResetsOnlyAfterTheStablePeriod() {
        // Two quick kicks: the backoff keeps growing. Then a stable session: it starts over.
        connector.then(fail(new ConnectException("refused")), succeed(), succeed(), succeed());
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofMillis(100));             // attempt 2 connects
        assertThat(connector.sessions).hasSize(1);
        vts.advanceTimeBy(Duration.ofSeconds(1));             // up for 1 s < 5 s stable period
        connector.sessions.get(0).dropByPeer(new IOException("kicked"));
        vts.advanceTimeBy(Duration.ofMillis(200));             // attempt 3 connects
        assertThat(connector.sessions).hasSize(2);
        vts.advanceTimeBy(Duration.ofSeconds(6));             // stays up past the stable period
        connector.sessions.get(1).dropByPeer(new IOException("broker restart"));
        assertThat(retryDelays()).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(100));
        List<Integer> attemptNumbers = eventsOf(LifecycleEvent.RetryScheduled.class).stream().map(LifecycleEvent.RetryScheduled::nextAttempt).toList();
        assertThat(attemptNumbers).containsExactly(2, 3, 2);
    }

    @Test
    void aPlannedSessionEndReconnectsAtOnceAndIsNotAFailure() {
        // A kick grows the backoff; a planned end neither waits nor counts, and the streak starts afresh.
        connector.then(succeed(), succeed(), succeed(), succeed());
        connection(NO_JITTER).start();
        vts.advanceTimeBy(Duration.ofSeconds(1));
        connector.sessions.get(0).dropByPeer(new IOException("kicked"));
        vts.advanceTimeBy(Duration.ofMillis(100));             // the backoff of a failure
        assertThat(connector.sessions).hasSize(2);
        vts.advanceTimeBy(Duration.ofSeconds(1));             // well inside the stable period
        connector.sessions.get(1).endPlanned();
        vts.advanceTimeBy(Duration.ZERO);                     // no time passes: the next attempt is already made
        assertThat(connector.sessions).hasSize(3);
        assertThat(connector.attempts.get(2).number()).isEqualTo(1);
        connector.sessions.get(2).dropByPeer(new IOException("kicked again"));
        assertThat(retryDelays()).as("after the planned end the streak starts afresh: 100 ms again, not 200 ms")
                .containsExactly(Duration.ofMillis(100), Duration.ZERO, Duration.ofMillis(100));
        assertThat(eventsOf(LifecycleEvent.Disconnected.class)).extracting(LifecycleEvent.Disconnected::initiator)
                .containsExactly(Initiator.REMOTE_PEER, Initiator.LOCAL_USER, Initiator.REMOTE_PEER);
    }

    @Test
    void refreshVerdictAsksTheProviderForNewCredentials() {
        List<CredentialsRequest> requests = new CopyOnWriteArrayList<>();
        connector.classifiedBy(f -> f.getMessage().contains("not authorized") ? Optional.of(Verdict.refreshCredentials()) : Optional.empty())
                .then(fail(new IOException("not authorized")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(ResilientConnection.builder(connector).reconnect(NO_JITTER)
                .credentials(r -> {
                    requests.add(r);
                    return reactor.core.publisher.Mono.just(Credentials.of("u", r.refresh() ? "fresh" : "expired"));
                }));
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(requests).extracting(CredentialsRequest::refresh).containsExactly(false, true);
        assertThat(connector.attempts.get(1).credentials().secret()).contains("fresh");
        assertThat(connector.attempts.get(1).credentialsRefreshed()).isTrue();
        assertThat(events).extracting(e -> e.getClass().getSimpleName()).containsExactly(
                "Idle", "Connecting", "RetryScheduled", "Connecting", "CredentialsRefreshed", "Connected");
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
    }

    @Test
    void credentialsFailureIsAnAttemptFailure() {
        AtomicReference<Integer> calls = new AtomicReference<>(0);
        connector.otherwise(succeed());
        connection(ResilientConnection.builder(connector).reconnect(NO_JITTER).credentials(r -> {
            calls.set(calls.get() + 1);
            return calls.get() == 1 ? reactor.core.publisher.Mono.error(new IOException("token endpoint down"))
                    : reactor.core.publisher.Mono.empty();
        })).start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        // An issuer error is retried like a network error; a provider that gives nothing is a bug: fatal, said clearly.
        List<LifecycleEvent.RetryScheduled> retries = eventsOf(LifecycleEvent.RetryScheduled.class);
        assertThat(retries).hasSize(1);
        assertThat(retries.get(0).cause()).hasMessageContaining("token endpoint down");
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause())
                .isInstanceOf(FatalConnectionException.class).hasMessageContaining("without credentials");
        assertThat(connector.attempts).isEmpty();
    }

    @Test
    void redirectGoesToTheNamedEndpointAndFailoverRotates() {
        Endpoint moved = Endpoint.of("tcp://127.0.0.1:9");
        connector.classifiedBy(f -> f.getMessage().equals("moved") ? Optional.of(Verdict.redirect(moved)) : Optional.empty())
                .then(fail(new IOException("down")), fail(new IOException("moved")), fail(new IOException("down")), succeed());
        connection(ResilientConnection.builder(connector).reconnect(NO_JITTER)
                .endpoint(Endpoint.of("tcp://127.0.0.1:2"))).start();   // endpoints in order: :2, :1
        vts.advanceTimeBy(Duration.ofSeconds(5));
        // :2 fails -> next is :1, which redirects to :9; :9 fails -> back to the list where it stood.
        assertThat(connector.attempts).extracting(a -> a.endpoint().port(0)).containsExactly(2, 1, 9, 2);
    }

    @Test
    void closeDuringConnectCancelsTheAttempt() {
        connector.then(hang());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTING);
        StepVerifier.create(c.close()).verifyComplete();
        assertThat(connector.cancelledHangs).hasValue(1);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(connector.attempts).hasSize(1);
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Idle", "Connecting", "CloseRequested", "Closed");
    }

    @Test
    void gracefulCloseDuringConnectIsHandedToAConnectorThatClosesAttemptsGracefully() {
        connector.gracefulAttempts = true;
        connector.then(new ScriptedConnector.Handshake(Duration.ofMillis(300), false));
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        AtomicReference<Boolean> closed = new AtomicReference<>(false);
        c.close().subscribe(null, null, () -> closed.set(true));
        assertThat(connector.attemptCloseRequests).containsExactly(CloseMode.GRACEFUL);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSING);
        vts.advanceTimeBy(Duration.ofMillis(299));
        assertThat(closed.get()).as("close() waits for the attempt's goodbye").isFalse();
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(closed.get()).isTrue();
        assertThat(connector.cancelledHangs).hasValue(0);
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Idle", "Connecting", "CloseRequested", "Closed");
    }

    @Test
    void aSessionThatArrivesDuringAGracefulAttemptCloseIsClosedInTheSameMode() {
        connector.gracefulAttempts = true;
        connector.then(new ScriptedConnector.Handshake(Duration.ofMillis(100), true));
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        StepVerifier.create(c.close(CloseMode.GRACEFUL_WITH_WILL)).then(() -> vts.advanceTimeBy(Duration.ofMillis(100)))
                .verifyComplete();
        assertThat(connector.sessions).hasSize(1);
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.GRACEFUL_WITH_WILL);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.Connected);
    }

    @Test
    void aGracefulAttemptCloseIsBoundedByTheCloseTimeoutThenAbortedAndReported() {
        connector.gracefulAttempts = true;
        connector.then(new ScriptedConnector.Handshake(null, false));
        ResilientConnection<ScriptedConnector.Session> c = connection(ResilientConnection.builder(connector)
                .reconnect(NO_JITTER).closeTimeout(Duration.ofSeconds(2)));
        c.start();
        AtomicReference<Boolean> closed = new AtomicReference<>(false);
        c.close().subscribe(null, null, () -> closed.set(true));
        vts.advanceTimeBy(Duration.ofMillis(1999));
        assertThat(closed.get()).isFalse();
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(closed.get()).isTrue();
        assertThat(connector.cancelledHangs).hasValue(1);
        assertThat(eventsOf(LifecycleEvent.Notice.class)).singleElement()
                .satisfies(n -> assertThat(n.kind()).isEqualTo("close-aborted"));
    }

    @Test
    void anAbortCutsAGracefulAttemptCloseShort() {
        connector.gracefulAttempts = true;
        connector.then(new ScriptedConnector.Handshake(null, false));
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        c.close().subscribe();
        StepVerifier.create(c.abort()).verifyComplete();
        assertThat(connector.cancelledHangs).hasValue(1);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
    }

    @Test
    void anAbortDuringConnectCancelsEvenAConnectorThatClosesAttemptsGracefully() {
        connector.gracefulAttempts = true;
        connector.then(new ScriptedConnector.Handshake(Duration.ofMillis(300), false));
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        StepVerifier.create(c.abort()).verifyComplete();
        assertThat(connector.attemptCloseRequests).isEmpty();
        assertThat(connector.cancelledHangs).hasValue(1);
    }

    @Test
    void attemptTimeoutBoundsAHangingAttempt() {
        connector.then(hang()).otherwise(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(ResilientConnection.builder(connector)
                .reconnect(NO_JITTER).attemptTimeout(Duration.ofSeconds(3)));
        c.start();
        vts.advanceTimeBy(Duration.ofSeconds(3));
        assertThat(connector.cancelledHangs).hasValue(1);
        assertThat(eventsOf(LifecycleEvent.RetryScheduled.class).get(0).cause()).hasMessageContaining("attemptTimeout");
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
    }

    @Test
    void closeDuringBackoffStopsTheTimer() {
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        assertThat(c.state()).isEqualTo(ConnectionState.WAITING_TO_RETRY);
        StepVerifier.create(c.close()).verifyComplete();
        vts.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(connector.attempts).hasSize(1);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
    }

    @Test
    void abortWhileConnectedClosesTheSessionWithoutGoodbye() {
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        StepVerifier.create(c.abort()).verifyComplete();
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.ABORT);
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Idle", "Connecting", "Connected", "CloseRequested", "Disconnected", "Closed");
        LifecycleEvent.Disconnected d = eventsOf(LifecycleEvent.Disconnected.class).get(0);
        assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_USER);
        assertThat(((LifecycleEvent.Closed) events.get(events.size() - 1)).cause()).isNull();
    }

    @Test
    void gracefulCloseReportsTheProtocolGoodbye() {
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        c.close().block(Duration.ofSeconds(1));
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Idle", "Connecting", "Connected", "CloseRequested", "CloseSent", "Disconnected", "Closed");
        assertThat(eventsOf(LifecycleEvent.CloseSent.class).get(0).code()).isEqualTo(1000);
    }

    @Test
    void aSessionThatNeverReportsItsEndIsAbortedThenGivenUpOn() {
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(ResilientConnection.builder(connector)
                .reconnect(NO_JITTER).closeTimeout(Duration.ofSeconds(2)));
        c.start();
        connector.sessions.get(0).deaf = true;
        c.close().subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(connector.sessions.get(0).closeRequests).containsExactly(CloseMode.GRACEFUL, CloseMode.ABORT);
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSING);
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(eventsOf(LifecycleEvent.Disconnected.class).get(0).cause()).hasMessageContaining("did not report its closure");
    }

    @Test
    void aLateEndOfAnOldGenerationIsIgnored() {
        connector.then(succeed(), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        ScriptedConnector.Session first = connector.sessions.get(0);
        first.dropByPeer(new IOException("dropped"));
        vts.advanceTimeBy(Duration.ofMillis(100));
        ScriptedConnector.Session second = connector.sessions.get(1);
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        int before = events.size();
        // The old socket reports again, and an old attempt reports a close frame: neither touches generation 2.
        first.end.tryEmitValue(SessionEnd.byPeer(1006, new IOException("late")));
        first.attempt.reportCloseReceived(1001, "late");
        assertThat(events).hasSize(before);
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(c.currentSession()).containsSame(second);
        assertThat(connector.attemptGenerations()).containsExactly(1L, 2L);
        assertThat(events).allSatisfy(e -> assertThat(e.generation()).isBetween(0L, 2L));
    }

    @Test
    void generationsNeverGoBackwards() {
        connector.then(fail(new IOException("a")), succeed(), fail(new IOException("b")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        connector.sessions.get(0).dropByPeer(new IOException("drop"));
        vts.advanceTimeBy(Duration.ofSeconds(2));
        long last = -1;
        for (LifecycleEvent e : events) {
            assertThat(e.generation()).isGreaterThanOrEqualTo(last);
            last = e.generation();
        }
        assertThat(c.generation()).isEqualTo(4);
    }

    @Test
    void lateSubscribersSeeTheCurrentStateFirst() {
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        StepVerifier.create(c.lifecycle().take(1)).expectNextMatches(e -> e instanceof LifecycleEvent.Idle).verifyComplete();
        c.start();
        StepVerifier.create(c.lifecycle().take(1))
                .expectNextMatches(e -> e instanceof LifecycleEvent.Connected cn && cn.generation() == 1).verifyComplete();
        c.close().block(Duration.ofSeconds(1));
        StepVerifier.create(c.lifecycle()).expectNextMatches(e -> e instanceof LifecycleEvent.Closed).verifyComplete();
    }

    @Test
    void manySubscribersSeeTheSameSequence() {
        connector.then(fail(new IOException("x")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        List<List<LifecycleEvent>> all = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 50; i++) {
            List<LifecycleEvent> mine = new CopyOnWriteArrayList<>();
            all.add(mine);
            c.lifecycle().subscribe(mine::add);
        }
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        c.close().block(Duration.ofSeconds(1));
        assertThat(all).allSatisfy(l -> assertThat(l).isEqualTo(events));
    }

    @Test
    void sessionWaitersGetTheNextSession() {
        connector.then(fail(new IOException("x")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        AtomicReference<ScriptedConnector.Session> got = new AtomicReference<>();
        c.session().subscribe(got::set);
        c.start();
        assertThat(got.get()).isNull();
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(got.get()).isSameAs(connector.sessions.get(0));
    }

    @Test
    void awaitConnectedTimesOutSayingWhatWasHappening() {
        ResilientConnection<ScriptedConnector.Session> c = connection(NO_JITTER);
        c.start();
        StepVerifier.withVirtualTime(() -> c.awaitConnected(Duration.ofSeconds(2)), () -> vts, Long.MAX_VALUE)
                .thenAwait(Duration.ofSeconds(2))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(java.util.concurrent.TimeoutException.class)
                        .hasMessageContaining("2000 ms").hasMessageContaining("refused"))
                .verify(Duration.ofSeconds(5));
    }
}
