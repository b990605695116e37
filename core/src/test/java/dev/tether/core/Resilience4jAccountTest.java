package dev.tether.core;

import static dev.tether.core.ScriptedConnector.fail;
import static dev.tether.core.ScriptedConnector.succeed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.circuitbreaker.event.CircuitBreakerEvent;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryRegistry;
import io.github.resilience4j.retry.event.RetryEvent;
import io.github.resilience4j.retry.event.RetryOnRetryEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Tether's Resilience4j instances, seen from Resilience4j's side: the events of the user's own
 * registries and the Micrometer binders of resilience4j-micrometer tell the real attempts.
 */
class Resilience4jAccountTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final ScriptedConnector connector = new ScriptedConnector();
    private final RetryRegistry retries = RetryRegistry.ofDefaults();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<RetryEvent> retryEvents = new CopyOnWriteArrayList<>();
    private final List<LifecycleEvent> lifecycle = new CopyOnWriteArrayList<>();

    private final ReconnectPolicy policy = ReconnectPolicy.builder()
            .initialDelay(Duration.ofMillis(100)).multiplier(2).maxDelay(Duration.ofSeconds(2))
            .jitter(Jitter.NONE).stablePeriod(Duration.ofSeconds(5)).retryRegistry(retries).build();

    private ResilientConnection<ScriptedConnector.Session> connection(String name, ReconnectPolicy p) {
        ResilientConnection<ScriptedConnector.Session> c = ResilientConnection.builder(connector).name(name)
                .endpoint(Endpoint.of("tcp://127.0.0.1:1")).reconnect(p).scheduler(vts).build();
        c.lifecycle().subscribe(lifecycle::add, e -> { });
        return c;
    }

    private Retry retryOf(String name) {
        Retry retry = retries.find(name).orElseThrow(() -> new AssertionError("no Retry named " + name + " in the registry"));
        retry.getEventPublisher().onEvent(retryEvents::add);
        return retry;
    }

    private List<String> retryEventTypes() {
        return retryEvents.stream().map(e -> e.getEventType() + "#" + e.getNumberOfRetryAttempts()).toList();
    }

    private double retryCalls(String name, String kind) {
        return meters.get("resilience4j.retry.calls").tag("name", name).tag("kind", kind).functionCounter().count();
    }

    @Test
    void retryEventsAndMetersTellTheRealAttempts() {
        TaggedRetryMetrics.ofRetryRegistry(retries).bindTo(meters);
        IOException first = new IOException("refused 1");
        connector.then(fail(first), fail(new IOException("refused 2")), succeed(), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection("sensor-7", policy);
        Retry retry = retryOf("sensor-7");
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100 + 200));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "RETRY#2", "SUCCESS#2");
        assertThat(retryEvents.get(0).getLastThrowable()).as("the real failure, not a wrapper").isSameAs(first);
        List<Duration> scheduled = lifecycle.stream().filter(e -> e instanceof LifecycleEvent.RetryScheduled)
                .map(e -> ((LifecycleEvent.RetryScheduled) e).delay()).toList();
        assertThat(retryEvents.subList(0, 2)).extracting(e -> ((RetryOnRetryEvent) e).getWaitInterval())
                .as("the delays the connection really waits").isEqualTo(scheduled);
        assertThat(retry.getMetrics().getNumberOfSuccessfulCallsWithRetryAttempt()).isEqualTo(1);
        assertThat(retryCalls("sensor-7", "successful_with_retry")).isEqualTo(1.0);

        // Up past the stable period, then dropped: a new streak, a new call.
        vts.advanceTimeBy(Duration.ofSeconds(6));
        connector.sessions.get(0).dropByPeer(new IOException("broker restart"));
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "RETRY#2", "SUCCESS#2", "RETRY#1", "SUCCESS#1");
        assertThat(retryCalls("sensor-7", "successful_with_retry")).isEqualTo(2.0);
        assertThat(retryCalls("sensor-7", "failed_with_retry")).isZero();
    }

    @Test
    void aFirstConnectWithoutFailureIsASuccessWithoutRetry() {
        TaggedRetryMetrics.ofRetryRegistry(retries).bindTo(meters);
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection("quiet", policy);
        retryOf("quiet");
        c.start();
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(retryEvents).isEmpty();
        assertThat(retryCalls("quiet", "successful_without_retry")).isEqualTo(1.0);
    }

    @Test
    void exhaustedRetriesEndWithOnError() {
        TaggedRetryMetrics.ofRetryRegistry(retries).bindTo(meters);
        IOException last = new IOException("refused 3");
        connector.then(fail(new IOException("refused 1")), fail(new IOException("refused 2")), fail(last));
        ResilientConnection<ScriptedConnector.Session> c = connection("limited", policy.toBuilder().maxAttempts(3).build());
        Retry retry = retryOf("limited");
        c.start();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "RETRY#2", "ERROR#3");
        assertThat(retryEvents.get(2).getLastThrowable()).isSameAs(last);
        assertThat(retry.getMetrics().getNumberOfFailedCallsWithRetryAttempt()).isEqualTo(1);
    }

    @Test
    void aFatalVerdictEndsWithOnError() {
        IllegalArgumentException misconfigured = new IllegalArgumentException("unknown scheme 'tcpx'");
        connector.then(fail(new IOException("refused")), fail(misconfigured));
        ResilientConnection<ScriptedConnector.Session> c = connection("fatal", policy);
        retryOf("fatal");
        c.start();
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "ERROR#2");
        assertThat(retryEvents.get(1).getLastThrowable()).isSameAs(misconfigured);
    }

    @Test
    void maxElapsedAndACappedVerdictEndWithOnError() {
        ResilientConnection<ScriptedConnector.Session> elapsed = connection("elapsed", policy.toBuilder().maxElapsed(Duration.ofSeconds(1)).build());
        retryOf("elapsed");
        elapsed.start();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        // 100 + 200 + 400 ms fit in 1 s; the next 800 ms would not.
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "RETRY#2", "RETRY#3", "ERROR#4");
        assertThat(((LifecycleEvent.Closed) lifecycle.get(lifecycle.size() - 1)).cause()).hasMessageContaining("maxElapsed");

        retryEvents.clear();
        connector.classifiedBy(f -> Optional.of(Verdict.retry().withMaxConsecutive(2)));
        ResilientConnection<ScriptedConnector.Session> capped = connection("capped", policy);
        retryOf("capped");
        capped.start();
        vts.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(retryEventTypes()).containsExactly("RETRY#1", "RETRY#2", "ERROR#3");
    }

    @Test
    void aFailingEventConsumerDoesNotStopTheConnection() {
        connector.then(fail(new IOException("refused")), succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection("robust", policy);
        retries.find("robust").orElseThrow().getEventPublisher().onEvent(e -> {
            throw new IllegalStateException("a broken consumer");
        });
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
    }

    @Test
    void connectionsSharingARegistryNeedTheirOwnNamesAndGiveThemBackWhenClosed() {
        ResilientConnection<ScriptedConnector.Session> c = connection("twin", policy);
        assertThatThrownBy(() -> connection("twin", policy)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'twin'").hasMessageContaining("name(");
        assertThat(retries.getAllRetries()).extracting(Retry::getName).containsExactly("twin");
        c.close().block(Duration.ofSeconds(1));
        assertThat(retries.find("twin")).as("removed when the connection closed").isEmpty();
        connection("twin", policy).start();
        assertThat(retries.find("twin")).isPresent();
    }

    @Test
    void aCircuitBreakerRegistryGivesEachConnectionItsOwnBreakerInResilience4jsAccount() {
        Clock virtualClock = new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(vts.now(TimeUnit.MILLISECONDS));
            }
        };
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.of(CircuitBreakerConfig.custom()
                .slidingWindowSize(2).minimumNumberOfCalls(2).failureRateThreshold(100)
                .waitDurationInOpenState(Duration.ofSeconds(10)).permittedNumberOfCallsInHalfOpenState(1)
                .clock(virtualClock).build());
        TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(breakers).bindTo(meters);
        List<CircuitBreakerEvent> breakerEvents = new CopyOnWriteArrayList<>();
        breakers.getEventPublisher().onEntryAdded(added -> added.getAddedEntry().getEventPublisher().onEvent(breakerEvents::add));
        connector.then(fail(new IOException("down")), fail(new IOException("down"))).otherwise(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection("plc", policy.toBuilder()
                .retryRegistry(null).circuitBreakerRegistry(breakers).build());
        CircuitBreaker breaker = breakers.find("plc").orElseThrow();
        c.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.OPEN);
        vts.advanceTimeBy(Duration.ofSeconds(12));
        assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED);
        assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breakerEvents).extracting(e -> e.getEventType().name()).containsSubsequence(
                "ERROR", "ERROR", "STATE_TRANSITION", "NOT_PERMITTED", "STATE_TRANSITION", "SUCCESS", "STATE_TRANSITION");
        assertThat(meters.get("resilience4j.circuitbreaker.calls").tag("name", "plc").tag("kind", "failed").timer().count()).isEqualTo(2);
        assertThat(meters.get("resilience4j.circuitbreaker.calls").tag("name", "plc").tag("kind", "successful").timer().count()).isEqualTo(1);
        assertThat(meters.get("resilience4j.circuitbreaker.not.permitted.calls").tag("name", "plc").counter().count()).isEqualTo(1.0);
        c.close().block(Duration.ofSeconds(1));
        assertThat(breakers.find("plc")).isEmpty();
    }

    @Test
    void aBreakerPutInTheRegistryBeforehandIsUsedAndLeftInPlace() {
        CircuitBreakerRegistry breakers = CircuitBreakerRegistry.ofDefaults();
        CircuitBreaker own = breakers.circuitBreaker("gateway", CircuitBreakerConfig.custom().slidingWindowSize(7).build());
        connector.then(succeed());
        ResilientConnection<ScriptedConnector.Session> c = connection("gateway", policy.toBuilder()
                .retryRegistry(null).circuitBreakerRegistry(breakers).build());
        c.start();
        assertThat(own.getMetrics().getNumberOfSuccessfulCalls()).isEqualTo(1);
        c.close().block(Duration.ofSeconds(1));
        assertThat(breakers.find("gateway")).containsSame(own);
    }

    @Test
    void aSharedBreakerAndABreakerRegistryDoNotGoTogether() {
        assertThatThrownBy(() -> ReconnectPolicy.builder().circuitBreaker(CircuitBreaker.ofDefaults("shared"))
                .circuitBreakerRegistry(CircuitBreakerRegistry.ofDefaults()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
    }
}
