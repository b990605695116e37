package dev.tether.core;

import static dev.tether.core.ScriptedConnector.succeed;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;
import reactor.util.context.Context;

class ConnectionOperatorsTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final ScriptedConnector connector = new ScriptedConnector();
    private final ResilientConnection<ScriptedConnector.Session> conn = ResilientConnection.builder(connector)
            .endpoint(Endpoint.of("tcp://127.0.0.1:1")).scheduler(vts).name("ops")
            .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).multiplier(2).jitter(Jitter.NONE).build())
            .build();

    @Test
    void pauseWhileDisconnectedHoldsElementsUntilConnected() {
        connector.then(new ScriptedConnector.Fail(new IOException("down")), succeed());
        List<Integer> out = new CopyOnWriteArrayList<>();
        AtomicInteger requested = new AtomicInteger();
        Flux.range(1, 5).doOnRequest(n -> requested.addAndGet((int) Math.min(n, 1000)))
                .transform(ConnectionOperators.pauseWhileDisconnected(conn)).subscribe(out::add);
        conn.start();
        assertThat(out).isEmpty();
        assertThat(requested.get()).as("backpressure: the source is not drained while disconnected").isLessThanOrEqualTo(2);
        vts.advanceTimeBy(Duration.ofMillis(100));
        assertThat(out).containsExactly(1, 2, 3, 4, 5);
    }

    @Test
    void bufferWhileDisconnectedDropsOldestWhenFull() {
        connector.then(new ScriptedConnector.Fail(new IOException("down")), succeed());
        Sinks.Many<Integer> source = Sinks.many().unicast().onBackpressureBuffer();
        List<Integer> out = new CopyOnWriteArrayList<>();
        List<Integer> dropped = new CopyOnWriteArrayList<>();
        source.asFlux().transform(ConnectionOperators.bufferWhileDisconnected(conn, 3, OverflowPolicy.DROP_OLDEST, dropped::add))
                .subscribe(out::add);
        conn.start();
        for (int i = 1; i <= 10; i++) {
            source.tryEmitNext(i);
        }
        vts.advanceTimeBy(Duration.ofMillis(100));
        // One element is held by the pause stage itself, three wait in the buffer; the rest were dropped oldest-first.
        assertThat(out).containsExactly(1, 8, 9, 10);
        assertThat(dropped).containsExactly(2, 3, 4, 5, 6, 7);
        assertThat(conn.state()).isEqualTo(ConnectionState.CONNECTED);
    }

    @Test
    void bufferWhileDisconnectedFailNewestErrorsClearly() {
        connector.then(new ScriptedConnector.Fail(new IOException("down")), succeed());
        Sinks.Many<Integer> source = Sinks.many().unicast().onBackpressureBuffer();
        conn.start();
        // Nothing already accepted is lost: the buffered elements are delivered once connected, then the error.
        StepVerifier.create(source.asFlux().transform(ConnectionOperators.bufferWhileDisconnected(conn, 2, OverflowPolicy.FAIL_NEWEST)))
                .then(() -> {
                    for (int i = 0; i < 5; i++) {
                        source.tryEmitNext(i);
                    }
                })
                .then(() -> vts.advanceTimeBy(Duration.ofMillis(100)))
                .expectNext(0, 1, 2)
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(BufferOverflowException.class).hasMessageContaining("2 elements"))
                .verify(Duration.ofSeconds(2));
    }

    @Test
    void bufferWhileDisconnectedValidatesCapacity() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConnectionOperators.bufferWhileDisconnected(conn, 0, OverflowPolicy.DROP_NEWEST))
                .hasMessageContaining("capacity").hasMessageContaining("0");
    }

    @Test
    void operatorsKeepTheSubscribersContext() {
        connector.then(succeed());
        conn.start();
        StepVerifier.create(Flux.deferContextual(ctx -> Flux.just(ctx.<String>get("tenant")))
                        .transform(ConnectionOperators.pauseWhileDisconnected(conn))
                        .contextWrite(Context.of("tenant", "acme")))
                .expectNext("acme").verifyComplete();
    }

    @Test
    void perSessionWorkIsCancelledWhenItsSessionEnds() {
        connector.then(succeed(), succeed());
        AtomicInteger cancelled = new AtomicInteger();
        List<String> out = new CopyOnWriteArrayList<>();
        conn.perSession(s -> Flux.interval(Duration.ofMillis(10), vts).map(i -> "g" + s.generation + ":" + i)
                .doOnCancel(cancelled::incrementAndGet)).subscribe(out::add);
        conn.start();
        vts.advanceTimeBy(Duration.ofMillis(30));
        connector.sessions.get(0).dropByPeer(new IOException("drop"));
        assertThat(cancelled).hasValue(1);
        vts.advanceTimeBy(Duration.ofMillis(100 + 20));
        assertThat(out).startsWith("g1:0", "g1:1", "g1:2").contains("g2:0", "g2:1").doesNotContain("g1:3");
    }

    @Test
    void healthFollowsTheLifecycle() {
        connector.then(succeed(), succeed());
        List<Health.Status> statuses = new CopyOnWriteArrayList<>();
        ConnectionOperators.health(conn).map(Health::status).subscribe(statuses::add);
        conn.start();
        connector.sessions.get(0).dropByPeer(new IOException("drop"));
        vts.advanceTimeBy(Duration.ofMillis(100));
        conn.close().block(Duration.ofSeconds(1));
        assertThat(statuses).containsExactly(Health.Status.STARTING, Health.Status.UP, Health.Status.RECONNECTING,
                Health.Status.UP, Health.Status.OUT_OF_SERVICE);
    }

    @Test
    void metricsCountAttemptsByVerdictAndTimeReconnects() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        connector.then(new ScriptedConnector.Fail(new IOException("down")), succeed(), succeed());
        ConnectionMetrics.bind(conn, registry);
        conn.start();
        vts.advanceTimeBy(Duration.ofMillis(100));
        connector.sessions.get(0).dropByPeer(new IOException("drop"));
        vts.advanceTimeBy(Duration.ofMillis(200));
        assertThat(registry.get("tether.connection.attempts").tag("verdict", "retry").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("tether.connection.state").tag("state", "connected").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("tether.connection.reconnect").timer().count()).isEqualTo(1);
        assertThat(registry.get("tether.connection.reconnect").timer().totalTime(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(200.0);
    }

    @Test
    void sessionsReplaysTheCurrentSessionThenFollowsNewOnes() {
        connector.then(succeed(), succeed());
        conn.start();
        List<Long> gens = new CopyOnWriteArrayList<>();
        conn.sessions().subscribe(s -> gens.add(s.generation));
        connector.sessions.get(0).dropByPeer(new IOException("drop"));
        vts.advanceTimeBy(Duration.ofMillis(100));
        StepVerifier.create(conn.close()).verifyComplete();
        assertThat(gens).containsExactly(1L, 2L);
        StepVerifier.create(conn.sessions()).verifyComplete();
        StepVerifier.create(Mono.from(conn.session())).expectError(ConnectionClosedException.class).verify(Duration.ofSeconds(1));
    }
}
