package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.ConnectionState;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Recorder;
import dev.tether.testkit.Sockets;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link MakeBeforeBreakWebSocket} against Tether's own WebSocket server. The server streams a
 * numbered tick every 10 ms to the newest session (as a server that hands a client's stream over to
 * its new session does), so each tick is sent exactly once: across a switch the application stream
 * must show every tick once, without a gap. The server's events and the kernel's socket table prove
 * the order (new session open before the old one's close handshake) and that the old connection is
 * closed.
 */
class MakeBeforeBreakIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration OVERLAP = Duration.ofMillis(300);

    private WebSocketServer server;
    private Recorder<ServerEvent> serverEvents;
    private final AtomicReference<WebSocketSession> newest = new AtomicReference<>();
    /** What the authenticator does with the next upgrade: null accepts at once. */
    private final AtomicReference<Mono<AuthDecision>> nextDecision = new AtomicReference<>();
    private final List<ResilientConnection<WebSocketSession>> made = new CopyOnWriteArrayList<>();
    private Disposable ticker;
    private final Map<Long, Long> sentAt = new ConcurrentHashMap<>();

    @BeforeEach
    void startServer() {
        Authenticator authenticator = request -> {
            Mono<AuthDecision> d = nextDecision.get();
            return d != null ? d : Authenticator.ALLOW_ALL.authenticate(request);
        };
        server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").authenticator(authenticator)
                .handler(session -> {
                    newest.set(session);
                    return session.receive().then();
                })
                .build();
        serverEvents = Recorder.of(server.events());
        server.start().block(WAIT);
        AtomicInteger n = new AtomicInteger();
        ticker = Flux.interval(Duration.ofMillis(10)).take(Duration.ofMinutes(2))
                .flatMap(i -> {
                    WebSocketSession to = newest.get();
                    if (to == null) {
                        return Mono.empty();
                    }
                    long tick = n.getAndIncrement();
                    sentAt.put(tick, System.currentTimeMillis());
                    return to.send(WebSocketMessage.text(Long.toString(tick))).onErrorResume(e -> Mono.empty());
                }, 256)
                .subscribe();
    }

    @AfterEach
    void stopServer() {
        if (ticker != null) {
            ticker.dispose();
        }
        made.forEach(c -> c.close().onErrorResume(e -> Mono.empty()).block(WAIT));
        if (server != null) {
            server.disposeNow(WAIT);
        }
        if (serverEvents != null) {
            serverEvents.close();
        }
    }

    private MakeBeforeBreakWebSocket.Builder mbb() {
        WebSocketClient client = WebSocketClient.builder().build();
        return MakeBeforeBreakWebSocket.builder(() -> {
            ResilientConnection<WebSocketSession> c = ResilientConnection.builder(client)
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws"))
                    .credentials(CredentialsProvider.none())
                    .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                    .name("mbb-" + (made.size() + 1))
                    .build();
            made.add(c);
            return c;
        }).overlap(OVERLAP);
    }

    private List<ServerEvent.SessionOpened> opened() {
        return serverEvents.items().stream().filter(e -> e instanceof ServerEvent.SessionOpened)
                .map(e -> (ServerEvent.SessionOpened) e).toList();
    }

    private static int port(ServerEvent.SessionOpened o) {
        return ((InetSocketAddress) o.remote()).getPort();
    }

    private ServerEvent.SessionClosed awaitClosed(String sessionId) {
        return serverEvents.await(ServerEvent.SessionClosed.class, c -> c.sessionId().equals(sessionId), WAIT);
    }

    /** Waits until the stream has reached a tick sent after this call (the stream flows on the current connection). */
    private static void awaitFlowing(Map<Long, Long> received, Map<Long, Long> sentAt) {
        long after = sentAt.keySet().stream().mapToLong(Long::longValue).max().orElse(-1) + 3;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!received.containsKey(after)) {
            assertThat(System.nanoTime()).as("tick " + after + " did not arrive").isLessThan(deadline);
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }
    }

    @Test
    void switchesMakeBeforeBreakWithoutAGapOrADuplicateAndClosesTheOldConnectionForReal() {
        int switches = 5;
        MakeBeforeBreakWebSocket ws = mbb().build();
        Map<Long, Long> received = new ConcurrentHashMap<>();
        List<Long> duplicates = new CopyOnWriteArrayList<>();
        ws.receive().subscribe(m -> {
            long n = Long.parseLong(m.text());
            if (received.putIfAbsent(n, System.currentTimeMillis()) != null) {
                duplicates.add(n);
            }
        });
        Recorder<LifecycleEvent> events = Recorder.lifecycle(ws.lifecycle());
        try {
            ws.start();
            ws.current().awaitConnected(WAIT).block(WAIT);
            awaitFlowing(received, sentAt);
            for (int i = 1; i <= switches; i++) {
                ws.renew().block(WAIT);
                awaitFlowing(received, sentAt);
            }
            // The ticker goes on: look at a snapshot, up to the last tick the current connection has surely delivered.
            Map<Long, Long> seen = new java.util.TreeMap<>(received);
            long last = ((java.util.TreeMap<Long, Long>) seen).lastKey();
            long first = ((java.util.TreeMap<Long, Long>) seen).firstKey();

            List<ServerEvent.SessionOpened> opened = opened();
            assertThat(opened).hasSize(switches + 1);
            List<String> order = new ArrayList<>();
            for (int i = 0; i < switches; i++) {
                ServerEvent.SessionOpened old = opened.get(i);
                ServerEvent.SessionOpened next = opened.get(i + 1);
                ServerEvent.CloseReceived oldClose = serverEvents.await(ServerEvent.CloseReceived.class,
                        c -> c.sessionId().equals(old.sessionId()), WAIT);
                ServerEvent.SessionClosed oldClosed = awaitClosed(old.sessionId());
                order.add(Duration.between(next.timestamp(), oldClose.timestamp()).toMillis() + " ms");
                assertThat(next.timestamp()).as("switch %d: the new session is open before the old one's close frame arrives", i + 1)
                        .isBefore(oldClose.timestamp());
                assertThat(oldClose.code()).as("the old connection closes gracefully").isEqualTo(1000);
                assertThat(oldClosed.summary().clean()).as("both close frames exchanged: %s", oldClosed.summary()).isTrue();
                assertThat(oldClosed.summary().codeSent()).isEqualTo(1000);
                // The kernel: nothing left of the old connection.
                int clientPort = port(old);
                assertThat(Sockets.established(clientPort, server.port())).as("switch %d: old connection still in the kernel", i + 1)
                        .isEmpty();
            }
            assertThat(Sockets.established(port(opened.get(switches)), server.port()))
                    .as("the current connection is open, seen from both ends").hasSize(2);
            assertThat(server.sessions().count()).isEqualTo(1);

            long missing = (last - first + 1) - seen.size();
            long maxGap = 0;
            long tickerGap = 0;
            for (long n = first + 1; n <= last; n++) {
                Long a = seen.get(n - 1);
                Long b = seen.get(n);
                if (a != null && b != null) {
                    maxGap = Math.max(maxGap, b - a);
                }
                Long sa = sentAt.get(n - 1);
                Long sb = sentAt.get(n);
                if (sa != null && sb != null) {
                    tickerGap = Math.max(tickerGap, sb - sa);
                }
            }
            System.out.printf("MakeBeforeBreakWebSocket: %d switches (overlap %s), ticks %d..%d, %d missing, %d duplicates, "
                    + "largest gap at the application %d ms (at the server's ticker %d ms); new session open before the old "
                    + "one's close frame by %s%n", switches, OVERLAP, first, last, missing, duplicates.size(), maxGap, tickerGap, order);
            assertThat(missing).as("no tick lost across the switches").isZero();
            assertThat(duplicates).as("no tick delivered twice").isEmpty();
            assertThat(maxGap).as("no stall in the stream").isLessThan(1000);
            assertThat(events.count(e -> e instanceof LifecycleEvent.Notice n
                    && n.kind().equals(MakeBeforeBreakWebSocket.RENEWED_NOTICE))).isEqualTo(switches);
            assertThat(ws.renewals()).isEqualTo(switches);
        } finally {
            ws.close().block(WAIT);
            events.close();
        }
    }

    @Test
    void aSecondConnectionThatFailsLeavesTheFirstServingAndIsReported() {
        MakeBeforeBreakWebSocket ws = mbb().handoverTimeout(Duration.ofSeconds(1)).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(ws.lifecycle());
        Map<Long, Long> received = new ConcurrentHashMap<>();
        ws.receive().subscribe(m -> received.put(Long.parseLong(m.text()), System.currentTimeMillis()));
        try {
            ws.start();
            ws.current().awaitConnected(WAIT).block(WAIT);
            ResilientConnection<WebSocketSession> first = ws.current();
            awaitFlowing(received, sentAt);
            nextDecision.set(Mono.just(new AuthDecision.Refused(403, "not now", null)));

            assertThatThrownBy(() -> ws.renew().block(WAIT))
                    .as("the renewal fails, and says why")
                    .hasMessageContaining("not connected within 1000 ms");
            nextDecision.set(null);
            LifecycleEvent.Notice failed = (LifecycleEvent.Notice) events.await(e -> e instanceof LifecycleEvent.Notice n
                    && n.kind().equals(MakeBeforeBreakWebSocket.RENEWAL_FAILED_NOTICE), WAIT);
            System.out.println("MakeBeforeBreakWebSocket, failed renewal on the lifecycle: " + failed);
            assertThat(failed.details().toString()).contains("not connected within 1000 ms", "the old one stays in use");
            assertThat(events.count(e -> e instanceof LifecycleEvent.Disconnected)).as("the first connection never dropped").isZero();

            assertThat(ws.current()).as("the first connection stays the current one").isSameAs(first);
            assertThat(first.state()).isEqualTo(ConnectionState.CONNECTED);
            assertThat(made).hasSize(2);
            assertThat(made.get(1).state()).as("the failed second connection is closed, not left retrying")
                    .isEqualTo(ConnectionState.CLOSED);
            awaitFlowing(received, sentAt);
            assertThat(opened()).as("the server never opened a second session").hasSize(1);
            assertThat(server.sessions().count()).isEqualTo(1);
            assertThat(Sockets.established(port(opened().get(0)), server.port())).hasSize(2);
            assertThat(Sockets.established(server.port())).as("only the first connection is left").hasSize(2);
        } finally {
            ws.close().block(WAIT);
            events.close();
        }
    }

    @Test
    void closeDuringTheOverlapClosesBothConnections() {
        MakeBeforeBreakWebSocket ws = mbb().overlap(Duration.ofSeconds(30)).build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(ws.lifecycle());
        ws.start();
        ws.current().awaitConnected(WAIT).block(WAIT);
        Mono<Void> renewing = ws.renew().cache();
        renewing.subscribe(null, e -> { });
        events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals(MakeBeforeBreakWebSocket.RENEWED_NOTICE), WAIT);
        serverEvents.awaitCount(2, e -> e instanceof ServerEvent.SessionOpened, WAIT);
        assertThat(made).hasSize(2).allSatisfy(c -> assertThat(c.state()).isEqualTo(ConnectionState.CONNECTED));

        long start = System.nanoTime();
        ws.close().block(WAIT);
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(made).hasSize(2).allSatisfy(c -> assertThat(c.state()).as(c.name()).isEqualTo(ConnectionState.CLOSED));
        assertThat(took).as("close() does not wait for the overlap").isLessThan(Duration.ofSeconds(5));
        for (ServerEvent.SessionOpened o : opened()) {
            ServerEvent.SessionClosed closed = awaitClosed(o.sessionId());
            assertThat(closed.summary().clean()).as("%s", closed.summary()).isTrue();
            assertThat(Sockets.established(port(o), server.port())).isEmpty();
        }
        events.close();
    }

    @Test
    void closeWhileTheSecondConnectionIsStillConnectingClosesBoth() {
        MakeBeforeBreakWebSocket ws = mbb().build();
        ws.start();
        ws.current().awaitConnected(WAIT).block(WAIT);
        // The second upgrade is held at the server, so the switch is under way when close() comes.
        nextDecision.set(Mono.delay(Duration.ofSeconds(3)).thenReturn(new AuthDecision.Accepted(null, Map.of(), null)));
        List<Throwable> renewal = new CopyOnWriteArrayList<>();
        ws.renew().subscribe(null, renewal::add);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (made.size() < 2 || made.get(1).state() != ConnectionState.CONNECTING) {
            assertThat(System.nanoTime()).as("the second connection did not start connecting").isLessThan(deadline);
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }

        ws.close().block(WAIT);

        assertThat(made).hasSize(2).allSatisfy(c -> assertThat(c.state()).as(c.name()).isEqualTo(ConnectionState.CLOSED));
        ServerEvent.SessionOpened first = opened().get(0);
        assertThat(awaitClosed(first.sessionId()).summary().clean()).isTrue();
        assertThat(Sockets.awaitNoneEstablished(server.port(), Duration.ofSeconds(2)))
                .as("no connection left in the kernel: %s", Sockets.describe(server.port())).isTrue();
        serverEvents.await(e -> e instanceof ServerEvent.SessionClosed, WAIT);
        assertThat(opened()).as("the held upgrade never became a session").hasSize(1);
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (renewal.isEmpty() && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        }
        assertThat(renewal).as("the renewal under way reports that it did not complete").hasSize(1);
    }
}
