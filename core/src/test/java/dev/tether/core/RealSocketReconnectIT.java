package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent.Closed;
import dev.tether.core.LifecycleEvent.Connected;
import dev.tether.core.LifecycleEvent.Connecting;
import dev.tether.core.LifecycleEvent.CredentialsRefreshed;
import dev.tether.core.LifecycleEvent.Disconnected;
import dev.tether.core.LifecycleEvent.RetryScheduled;
import dev.tether.core.testing.Recorder;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.Sockets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The engine against a real TCP server through a real fault-injecting proxy: refusals, drops,
 * refused connections and blackholes, each told on the lifecycle in order.
 */
class RealSocketReconnectIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ReconnectPolicy FAST = ReconnectPolicy.builder()
            .initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).stablePeriod(Duration.ofMillis(300)).build();

    private final LineServer server = new LineServer("fresh-token");
    private final FaultProxy proxy = FaultProxy.start("127.0.0.1", server.port());
    private final List<CredentialsRequest> requests = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicReference<String> token = new java.util.concurrent.atomic.AtomicReference<>("expired-token");
    private ResilientConnection<LineConnector.LineSession> conn;

    @AfterEach
    void tearDown() {
        if (conn != null) {
            conn.abort().block(WAIT);
        }
        proxy.close();
        server.close();
    }

    private ResilientConnection<LineConnector.LineSession> connection(Duration attemptTimeout) {
        conn = ResilientConnection.builder(new LineConnector())
                .name("line")
                .endpoint(Endpoint.of("tcp://127.0.0.1:" + proxy.port()))
                .credentials(r -> {
                    // Like a real token cache: serves its token until told to refresh.
                    requests.add(r);
                    if (r.refresh()) {
                        token.set("fresh-token");
                    }
                    return Mono.fromSupplier(() -> Credentials.token(token.get()));
                })
                .reconnect(FAST)
                .attemptTimeout(attemptTimeout)
                .build();
        return conn;
    }

    @Test
    void refusedThenRefreshedThenDroppedThenRefusedThenBack() {
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofSeconds(5));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();

            // 1. First connect with an expired token: refused, refreshed, accepted, without user code.
            RetryScheduled refused = rec.next(RetryScheduled.class, WAIT);
            assertThat(refused.verdict().kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
            assertThat(((ConnectionFailedException) refused.cause()).code()).hasValue(401);
            rec.next(CredentialsRefreshed.class, WAIT);
            Connected first = rec.next(Connected.class, WAIT);
            assertThat(requests).extracting(CredentialsRequest::refresh).containsExactly(false, true);
            assertThat(requests.get(0).attempt()).isEqualTo(1);

            // Traffic flows.
            StepVerifier.create(c.session().flatMapMany(s -> s.send("ping").thenMany(s.lines().take(1))))
                    .expectNext("ECHO ping").verifyComplete();

            // 2. The server drops the connection: the peer did it, and the engine reconnects.
            server.dropAll();
            Disconnected dropped = rec.next(Disconnected.class, WAIT);
            assertThat(dropped.initiator()).isEqualTo(Initiator.REMOTE_PEER);
            assertThat(dropped.generation()).isEqualTo(first.generation());
            rec.next(RetryScheduled.class, WAIT);
            Connected second = rec.next(Connected.class, WAIT);
            assertThat(second.generation()).isGreaterThan(first.generation());

            // 3. New connections are reset by the network while the current one is cut.
            proxy.refuse(true);
            proxy.cutAll();
            rec.next(Disconnected.class, WAIT);
            rec.next(RetryScheduled.class, WAIT);
            rec.next(Connecting.class, WAIT);
            RetryScheduled refusedByNetwork = rec.next(RetryScheduled.class, WAIT);
            assertThat(refusedByNetwork.verdict().kind()).isEqualTo(Verdict.Kind.RETRY);
            proxy.refuse(false);
            Connected third = rec.next(Connected.class, WAIT);
            assertThat(third.generation()).isGreaterThan(second.generation());

            // Generations never go backwards and every event of a generation precedes the next one's.
            long last = 0;
            for (LifecycleEvent e : rec.items()) {
                assertThat(e.generation()).isGreaterThanOrEqualTo(last);
                last = e.generation();
            }
            assertThat(requests).extracting(CredentialsRequest::refresh).as("asked before every attempt, refresh only once")
                    .containsOnlyOnce(true).hasSizeGreaterThanOrEqualTo(4);
            assertThat(rec.names()).startsWith("Idle", "Connecting", "RetryScheduled", "Connecting",
                    "CredentialsRefreshed", "Connected", "Disconnected", "RetryScheduled", "Connecting", "Connected");
        }
    }

    @Test
    void blackholedHandshakeIsBoundedByTheAttemptTimeout() {
        server.acceptedSecret = "expired-token";
        proxy.blackhole(true);
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofMillis(500));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();
            RetryScheduled timedOut = rec.next(RetryScheduled.class, WAIT);
            assertThat(timedOut.cause()).hasMessageContaining("attemptTimeout");
            proxy.blackhole(false);
            rec.next(Connected.class, WAIT);
        }
    }

    @Test
    void busyServerIsRetriedNoSoonerThanItAsked() {
        server.acceptedSecret = "expired-token";
        server.busyMillis = 300;
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofSeconds(5));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();
            RetryScheduled busy = rec.next(RetryScheduled.class, WAIT);
            assertThat(busy.delay()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            server.busyMillis = 0;
            Connected connected = rec.next(Connected.class, WAIT);
            assertThat(Duration.between(busy.timestamp(), connected.timestamp())).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void gracefulCloseSaysGoodbyeAndTheServerSeesTheSocketClose() {
        server.acceptedSecret = "expired-token";
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofSeconds(5));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();
            rec.next(Connected.class, WAIT);
            int closedBefore = server.closedConnections.get();
            c.close().block(WAIT);
            assertThat(rec.next(Closed.class, WAIT).cause()).isNull();
            assertThat(server.byesReceived).hasValue(1);
            dev.tether.core.testing.Await.until(() -> server.closedConnections.get() > closedBefore, WAIT,
                    "the server saw its side of the socket close");
            assertThat(rec.names()).containsSubsequence("CloseRequested", "CloseSent", "Disconnected", "Closed");
            assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).as("no socket left to the proxy").isTrue();
        }
    }

    @Test
    void abortClosesTheTransportAtOnce() {
        server.acceptedSecret = "expired-token";
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofSeconds(5));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();
            rec.next(Connected.class, WAIT);
            c.abort().block(WAIT);
            assertThat(server.byesReceived).hasValue(0);
            assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).isTrue();
            assertThat(rec.next(Disconnected.class, WAIT).initiator()).isEqualTo(Initiator.LOCAL_USER);
        }
        conn = null;
    }

    @Test
    void closeDuringABlackholedConnectLeavesNoSocket() {
        proxy.blackhole(true);
        ResilientConnection<LineConnector.LineSession> c = connection(Duration.ofSeconds(30));
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
            c.start();
            rec.next(Connecting.class, WAIT);
            // The TCP connection to the proxy exists; the handshake is stuck.
            dev.tether.core.testing.Await.until(() -> proxy.connectionCount() == 1, WAIT, "a connection held open at the proxy");
            c.close().block(WAIT);
            assertThat(c.state()).isEqualTo(ConnectionState.CLOSED);
            assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT))
                    .as("the cancelled attempt released its socket; ss: %s; events: %s", Sockets.describe(proxy.port()), rec.names()).isTrue();
        }
    }

    @Test
    void theBackoffCountsFromTheLossNotFromTheTimeSubscribersTakeToHearOfIt() {
        conn = ResilientConnection.builder(new LineConnector())
                .name("line")
                .endpoint(Endpoint.of("tcp://127.0.0.1:" + proxy.port()))
                .credentials(r -> Mono.just(Credentials.token("fresh-token")))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(800)).maxDelay(Duration.ofMillis(800))
                        .jitter(Jitter.NONE).build())
                .build();
        // A subscriber that takes 600 ms to handle Disconnected holds up the engine's thread while it runs.
        reactor.core.Disposable slow = conn.lifecycle().subscribe(e -> {
            if (e instanceof Disconnected) {
                try {
                    Thread.sleep(600);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(conn.lifecycle())) {
            conn.start();
            rec.next(Connected.class, WAIT);

            server.dropAll();
            Disconnected dropped = rec.next(Disconnected.class, WAIT);
            RetryScheduled retry = rec.next(RetryScheduled.class, WAIT);
            Connecting next = rec.next(Connecting.class, WAIT);

            // The 800 ms backoff started when the loss was reported: the subscriber's 600 ms are inside it, not
            // added to it (1.4 s), and the event says when the backoff started counting.
            long waited = Duration.between(dropped.timestamp(), next.timestamp()).toMillis();
            assertThat(waited).isBetween(790L, 1_300L);
            assertThat(retry.delay()).isEqualTo(Duration.ofMillis(800));
            assertThat(retry.timestamp()).isBeforeOrEqualTo(dropped.timestamp().plusMillis(100));
            assertThat(next.timestamp()).isAfterOrEqualTo(retry.timestamp().plus(retry.delay()).minusMillis(1));
            rec.next(Connected.class, WAIT);
        } finally {
            slow.dispose();
        }
    }
}
