package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Recorder;
import dev.tether.testkit.Sockets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Stop with a thousand live sessions, and hot reload under traffic: the drain reaches every client,
 * nobody is left connected, and clients come back and receive broadcasts again.
 */
class ServerDrainLoadIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void stopWithAThousandSessionsClosesEveryOneWith1001AfterTheDisableEventWithinTheDrainBound() {
        int n = 1_000;
        Duration drain = Duration.ofSeconds(5);
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .session(s -> s.heartbeat(Heartbeat.disabled()))
                .drainTimeout(drain)
                .announcer(OneBotAnnouncer.builder(7).heartbeatInterval(null).build())
                .build();
        server.start().block(WAIT);
        int port = server.port();
        WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.disabled())).build();
        Endpoint endpoint = Endpoint.of("ws://127.0.0.1:" + port + "/ws");
        List<WebSocketSession> sessions = new ArrayList<>();
        try {
            sessions.addAll(Flux.range(0, n)
                    .flatMap(i -> client.connect(new TestAttempt(endpoint)).map(EstablishedSession::session), 64)
                    .collectList()
                    .block(WAIT));
            assertThat(sessions).hasSize(n);
            List<Mono<List<String>>> texts = sessions.stream()
                    .map(s -> s.receive().map(WebSocketMessage::text).collectList().cache())
                    .toList();
            texts.forEach(Mono::subscribe);
            WebSocketServerIT.awaitCount(server, n);

            long t0 = System.nanoTime();
            Mono<Void> allClientsClosed = Flux.fromIterable(sessions).flatMap(WebSocketSession::closed, n).then().cache();
            allClientsClosed.subscribe();
            DrainReport report = server.stop().block(WAIT);
            allClientsClosed.block(WAIT);
            long took = System.nanoTime() - t0;

            assertThat(report.sessions()).isEqualTo(n);
            assertThat(report.closedCleanly()).isEqualTo(n);
            assertThat(report.aborted()).isZero();
            assertThat(took).as("every client closed within the drain bound").isLessThan(drain.toNanos());
            for (int i = 0; i < n; i++) {
                CloseSummary s = sessions.get(i).closed().block(WAIT);
                assertThat(s.codeReceived()).isEqualTo(1001);
                assertThat(s.clean()).isTrue();
                List<String> got = texts.get(i).block(WAIT);
                assertThat(got).hasSize(3);
                assertThat(got.get(0)).contains("\"sub_type\":\"connect\"");
                assertThat(got.get(2)).as("disable arrives before the close frame").contains("\"sub_type\":\"disable\"");
            }
            assertThat(Sockets.established(port)).as("no ESTABLISHED socket left on the port").isEmpty();
        } finally {
            sessions.forEach(s -> s.abort().subscribe());
            if (server.isRunning()) {
                server.disposeNow(WAIT);
            }
        }
    }

    @Test
    void hotReloadUnderTrafficClientsSee1012ReconnectAndReceiveEveryLaterBroadcast() throws Exception {
        int clients = 20;
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").drainTimeout(Duration.ofSeconds(2))
                .build();
        server.start().block(WAIT);
        int port = server.port();
        // Numbered at broadcast time, so a tick dropped by the interval's backpressure is not a gap.
        java.util.concurrent.atomic.AtomicLong counter = new java.util.concurrent.atomic.AtomicLong();
        Disposable ticker = Flux.interval(Duration.ofMillis(10)).onBackpressureDrop()
                .concatMap(i -> Mono.defer(() -> server.sessions().broadcast(WebSocketMessage.text(String.valueOf(counter.getAndIncrement())))), 1)
                .subscribe();
        WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(2)))).build();
        List<ResilientConnection<WebSocketSession>> conns = new ArrayList<>();
        List<Recorder<LifecycleEvent>> events = new ArrayList<>();
        // per client: session id -> ticks received on that session, in order
        List<Map<String, List<Long>>> received = new ArrayList<>();
        List<Disposable> readers = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                ResilientConnection<WebSocketSession> c = ResilientConnection.builder(client)
                        .endpoint(Endpoint.of("ws://127.0.0.1:" + port + "/ws"))
                        .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(400)).build())
                        .name("reload-" + i)
                        .build();
                Map<String, List<Long>> byId = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>());
                readers.add(c.perSession(s -> s.receive().doOnNext(m -> byId.computeIfAbsent(s.id(), k -> new CopyOnWriteArrayList<>())
                        .add(Long.parseLong(m.text())))).subscribe());
                events.add(Recorder.lifecycle(c.lifecycle()));
                conns.add(c);
                received.add(byId);
                c.start();
            }
            for (Recorder<LifecycleEvent> e : events) {
                e.next(LifecycleEvent.Connected.class, WAIT);
            }
            WebSocketServerIT.awaitCount(server, clients);
            // Every client reads its first session before the reload, so each map below holds exactly two sessions (a
            // client that connected last could otherwise be reloaded before its first tick arrived).
            Flux.interval(Duration.ofMillis(10))
                    .filter(x -> received.stream().allMatch(m -> m.size() == 1 && !m.values().iterator().next().isEmpty()))
                    .next()
                    .timeout(WAIT, Mono.error(() -> new AssertionError("not every client received a tick on its first session: "
                            + received.stream().map(m -> m.values().stream().map(List::size).toList()).toList())))
                    .block();

            DrainReport report = server.reload().block(WAIT);
            assertThat(report.reason()).isEqualTo(DrainReason.RELOAD);
            assertThat(report.sessions()).isEqualTo(clients);
            assertThat(report.closedCleanly()).isEqualTo(clients);
            assertThat(server.isAccepting()).isTrue();
            assertThat(server.port()).isEqualTo(port);

            for (Recorder<LifecycleEvent> e : events) {
                e.next(LifecycleEvent.CloseReceived.class, r -> r.code() == 1012, WAIT);
                e.next(LifecycleEvent.RetryScheduled.class, WAIT);
                e.next(LifecycleEvent.Connected.class, WAIT);
            }
            // Every client keeps receiving: wait until each new session has at least 20 ticks.
            Flux.interval(Duration.ofMillis(10))
                    .filter(x -> received.stream().allMatch(m -> m.size() == 2 && secondSession(m).size() >= 20))
                    .next()
                    .timeout(WAIT, Mono.error(() -> new AssertionError("not every client received 20 ticks on a second session: "
                            + received.stream().map(m -> m.values().stream().map(List::size).toList()).toList()
                            + "; events of client 0:" + events.get(0).describe())))
                    .block();
            for (Map<String, List<Long>> byId : received) {
                assertThat(byId).hasSize(2);
                for (List<Long> ticks : List.copyOf(byId.values())) {
                    for (int k = 1; k < ticks.size(); k++) {
                        assertThat(ticks.get(k)).as("no broadcast lost while connected").isEqualTo(ticks.get(k - 1) + 1);
                    }
                }
            }
        } finally {
            ticker.dispose();
            readers.forEach(Disposable::dispose);
            events.forEach(Recorder::close);
            Flux.fromIterable(conns).flatMap(ResilientConnection::close).then().block(WAIT);
            server.disposeNow(WAIT);
        }
        assertThat(Sockets.established(port)).isEmpty();
    }

    private static List<Long> secondSession(Map<String, List<Long>> byId) {
        synchronized (byId) {
            return new ArrayList<>(byId.values()).get(1);
        }
    }
}
