package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.spi.Attempt;
import dev.tether.core.spi.Connector;
import dev.tether.core.spi.EstablishedSession;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * How one attempt ends, whatever its sources do: a credentials provider or a connector that completes empty, throws,
 * returns null or never answers, and a session that comes after the attempt timeout. Virtual time; no socket.
 */
class AttemptEdgesTest {

    private static final ReconnectPolicy ONCE = ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(1)).multiplier(1)
            .maxDelay(Duration.ofSeconds(1)).jitter(Jitter.NONE).build();

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final List<LifecycleEvent> events = new CopyOnWriteArrayList<>();

    /** A session a test can see closed. */
    static final class Late implements EstablishedSession<String> {
        final List<CloseMode> closes = new CopyOnWriteArrayList<>();

        @Override
        public String session() {
            return "late";
        }

        @Override
        public Object details() {
            return "late session";
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return Mono.never();
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            return Mono.fromRunnable(() -> closes.add(mode));
        }
    }

    private ResilientConnection<String> start(Function<Attempt, Mono<EstablishedSession<String>>> connect,
                                              CredentialsProvider credentials) {
        Connector<String> connector = connect::apply;
        ResilientConnection<String> c = ResilientConnection.builder(connector).endpoint(Endpoint.of("tcp://127.0.0.1:1"))
                .credentials(credentials).reconnect(ONCE).attemptTimeout(Duration.ofSeconds(3)).scheduler(vts).build();
        c.lifecycle().subscribe(events::add, e -> { });
        c.start();
        return c;
    }

    private Throwable firstFailure() {
        return events.stream().filter(e -> e instanceof LifecycleEvent.RetryScheduled).map(e -> ((LifecycleEvent.RetryScheduled) e).cause())
                .findFirst().orElseThrow(() -> new AssertionError("no RetryScheduled in " + events));
    }

    /** @return what ended the connection for good (a misconfiguration is fatal: the default classifier's verdict) */
    private Throwable fatalCause() {
        LifecycleEvent.Closed closed = events.stream().filter(e -> e instanceof LifecycleEvent.Closed)
                .map(e -> (LifecycleEvent.Closed) e).findFirst().orElseThrow(() -> new AssertionError("not closed: " + events));
        assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class);
        return java.util.Objects.requireNonNull(closed.cause()).getCause();
    }

    @Test
    void credentialsThatCompleteEmptyFailTheAttemptAndSaySo() {
        start(a -> Mono.never(), request -> Mono.empty());
        assertThat(fatalCause()).isInstanceOf(IllegalStateException.class)
                .hasMessage("the credentials provider completed without credentials");
    }

    @Test
    void aProviderThatThrowsOrReturnsNullFailsTheAttemptNotTheEngine() {
        start(a -> Mono.never(), request -> {
            throw new IllegalArgumentException("no key configured");
        });
        assertThat(fatalCause()).hasMessage("no key configured");
        events.clear();
        start(a -> Mono.never(), request -> null);
        assertThat(fatalCause()).isInstanceOf(NullPointerException.class).hasMessageContaining("returned null");
        events.clear();
        ResilientConnection<String> c = start(a -> Mono.never(), request -> {
            throw new java.io.UncheckedIOException(new java.io.IOException("token endpoint unreachable"));
        });
        assertThat(firstFailure()).hasMessageContaining("token endpoint unreachable");
        assertThat(c.state()).isEqualTo(ConnectionState.WAITING_TO_RETRY);
    }

    @Test
    void aConnectorThatCompletesEmptyOrReturnsNullFailsTheAttempt() {
        start(a -> Mono.empty(), CredentialsProvider.none());
        assertThat(fatalCause()).isInstanceOf(IllegalStateException.class).hasMessage("the connector completed without a session");
        events.clear();
        start(a -> null, CredentialsProvider.none());
        assertThat(fatalCause()).isInstanceOf(NullPointerException.class).hasMessageContaining("returned null");
    }

    @Test
    void theAttemptTimeoutCancelsTheConnectorAndASessionThatComesLaterIsClosed() {
        AtomicInteger cancelled = new AtomicInteger();
        Sinks.One<EstablishedSession<String>> never = Sinks.one();
        start(a -> never.asMono().doOnCancel(cancelled::incrementAndGet), CredentialsProvider.none());
        vts.advanceTimeBy(Duration.ofMillis(2_999));
        assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.RetryScheduled);
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(firstFailure()).isInstanceOf(TimeoutException.class).hasMessageContaining("3000 ms (attemptTimeout)");
        assertThat(cancelled).hasValue(1);

        // A connector that ignores the cancel and still hands over a session: nobody takes it, it is aborted.
        Late late = new Late();
        java.util.concurrent.atomic.AtomicReference<org.reactivestreams.Subscriber<? super EstablishedSession<String>>> deaf =
                new java.util.concurrent.atomic.AtomicReference<>();
        events.clear();
        start(a -> Mono.from(subscriber -> {
            deaf.set(subscriber);
            subscriber.onSubscribe(new org.reactivestreams.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                    // ignored: this source is deaf to cancels
                }
            });
        }), CredentialsProvider.none());
        vts.advanceTimeBy(Duration.ofSeconds(3));
        assertThat(firstFailure()).isInstanceOf(TimeoutException.class);
        deaf.get().onNext(late);
        deaf.get().onComplete();
        assertThat(late.closes).containsExactly(CloseMode.ABORT);
        assertThat(events).noneMatch(e -> e instanceof LifecycleEvent.Connected);
    }

    @Test
    void aTimeoutExceptionOfTheConnectorKeepsItsOwnMessage() {
        start(a -> Mono.error(new TimeoutException("TLS handshake timed out")), CredentialsProvider.none());
        assertThat(firstFailure()).isInstanceOf(TimeoutException.class).hasMessage("TLS handshake timed out");
    }

    @Test
    void anEstablishedSessionIsTakenOnceAndTheTimerNoLongerCounts() {
        Late session = new Late();
        ResilientConnection<String> c = start(a -> Mono.just(session), CredentialsProvider.none());
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(session.closes).isEmpty();
    }
}
