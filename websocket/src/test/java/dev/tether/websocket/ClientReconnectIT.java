package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.BufferOverflowException;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.FatalConnectionException;
import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.OverflowPolicy;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.netty.http.server.WebsocketServerSpec;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Reconnect decisions against a real Reactor Netty WebSocket server: restart, 1012, 1013 with
 * Retry-After, 401 with refreshed credentials, no reconnect after 1000; plus messages both ways.
 */
class ClientReconnectIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static ResilientConnection<WebSocketSession> connection(WebSocketClient client, NettyServer server,
                                                                    CredentialsProvider credentials) {
        return ResilientConnection.builder(client)
                .endpoint(Endpoint.of(server.uri()))
                .credentials(credentials)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .name("reconnect-" + server.port())
                .build();
    }

    private static WebSocketClient quickClient() {
        return WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(2)))).build();
    }

    @Test
    void headersQueryAndSubprotocolsAreComputedForEachAttemptFromItsCredentials() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> {
                seen.add(req.uri() + " | " + req.requestHeaders().get("X-Bot-Token") + " | "
                        + req.requestHeaders().get("Sec-WebSocket-Protocol"));
                return res.sendWebsocket(NettyServer.ECHO, WebsocketServerSpec.builder().protocols("bot.v2").build());
            });
            WebSocketClient client = quickClient().toBuilder()
                    .headers(a -> Map.of("X-Bot-Token", a.credentials().secret().orElse("")))
                    .query(a -> new java.util.TreeMap<>(Map.of("attempt", String.valueOf(a.number()), "gen", String.valueOf(a.generation()))))
                    .subprotocols(a -> List.of("bot.v2", "bot.v1"))
                    .build();
            AtomicInteger issued = new AtomicInteger();
            CredentialsProvider tokens = request -> Mono.fromSupplier(() -> Credentials.token("token-" + issued.incrementAndGet()));
            ResilientConnection<WebSocketSession> conn = connection(client, server, tokens);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(conn.currentSession().orElseThrow().subprotocol()).contains("bot.v2");
                conn.currentSession().orElseThrow().abort().block(WAIT);
                events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(seen).containsExactly("/ws?attempt=1&gen=1 | token-1 | bot.v2,bot.v1",
                        "/ws?attempt=2&gen=2 | token-2 | bot.v2,bot.v1");
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void messagesFlowBothWaysIncludingFragmentedAndCompressed() throws Exception {
        List<String> offered = new CopyOnWriteArrayList<>();
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> {
                offered.add(String.valueOf(req.requestHeaders().get("Sec-WebSocket-Extensions")));
                return res.sendWebsocket(NettyServer.ECHO, WebsocketServerSpec.builder().compress(true).build());
            });
            WebSocketClient client = quickClient().toBuilder().session(s -> s.maxFramePayload(4096)).session(s -> s.compression(true)).build();
            ResilientConnection<WebSocketSession> conn = connection(client, server, CredentialsProvider.none());
            conn.start();
            try {
                WebSocketSession s = conn.awaitConnected(WAIT).block(WAIT);
                String big = "x".repeat(3000) + "y".repeat(3000) + "z".repeat(3000);
                byte[] bin = new byte[] {0, 1, 2, (byte) 255};
                StepVerifier.create(s.receive().take(3))
                        .then(() -> s.send(Flux.just(WebSocketMessage.text("hello"), WebSocketMessage.binary(bin),
                                WebSocketMessage.text(big))).subscribe())
                        .assertNext(m -> assertThat(m.text()).isEqualTo("hello"))
                        .assertNext(m -> {
                            assertThat(m.isText()).isFalse();
                            assertThat(m.bytes()).containsExactly(bin);
                        })
                        .assertNext(m -> assertThat(m.text()).isEqualTo(big))
                        .expectComplete()
                        .verify(WAIT);
                assertThat(offered).singleElement().asString().contains("permessage-deflate");
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void aSlowReaderGetsEveryMessageInOrder() throws Exception {
        int n = 2_000;
        try (NettyServer server = new NettyServer()) {
            server.behaviour((i, req, res) -> res.sendWebsocket((in, out) -> out.sendString(
                    Flux.range(0, n).map(String::valueOf)).then(in.receive().then())));
            WebSocketClient client = quickClient().toBuilder().session(s -> s.inboundBuffer(16)).build();
            ResilientConnection<WebSocketSession> conn = connection(client, server, CredentialsProvider.none());
            conn.start();
            try {
                WebSocketSession s = conn.awaitConnected(WAIT).block(WAIT);
                List<String> got = s.receive().map(WebSocketMessage::text).limitRate(8).take(n).collectList().block(WAIT);
                assertThat(got).hasSize(n);
                for (int i = 0; i < n; i++) {
                    assertThat(got.get(i)).isEqualTo(String.valueOf(i));
                }
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void reconnectsAfterTheServerRestartsOnTheSamePort() throws Exception {
        try (NettyServer server = new NettyServer()) {
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                server.restart();
                events.next(LifecycleEvent.Disconnected.class, WAIT);
                events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                LifecycleEvent.Connected again = events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(again.generation()).isGreaterThan(1);
                WebSocketSession s = conn.currentSession().orElseThrow();
                StepVerifier.create(s.receive().take(1).map(WebSocketMessage::text))
                        .then(() -> s.sendText("after restart").subscribe())
                        .expectNext("after restart")
                        .expectComplete()
                        .verify(WAIT);
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void reconnectsAfter1012() throws Exception {
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> n == 1
                    ? res.sendWebsocket((in, out) -> out.sendClose(1012, "service restart"))
                    : res.sendWebsocket(NettyServer.ECHO));
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                events.next(LifecycleEvent.CloseReceived.class, e -> e.code() == 1012, WAIT);
                LifecycleEvent.Disconnected d = events.next(LifecycleEvent.Disconnected.class, WAIT);
                LifecycleEvent.RetryScheduled r = events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(d.initiator()).isEqualTo(Initiator.REMOTE_PEER);
                assertThat(d.code()).isEqualTo(1012);
                assertThat(r.verdict().kind()).isEqualTo(Verdict.Kind.RETRY);
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void after1013AndA503WithRetryAfterTheClientWaitsAsAsked() throws Exception {
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> switch (n) {
                case 1 -> res.sendWebsocket((in, out) -> out.sendClose(1013, "overloaded"));
                case 2 -> res.status(HttpResponseStatus.SERVICE_UNAVAILABLE).header("Retry-After", "1").send();
                default -> res.sendWebsocket(NettyServer.ECHO);
            });
            WebSocketClient client = quickClient().toBuilder().verdicts(v -> v.tryAgainLaterDelay(Duration.ofMillis(400))).build();
            ResilientConnection<WebSocketSession> conn = connection(client, server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                LifecycleEvent.RetryScheduled first = events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                Recorder.Timed<LifecycleEvent.RetryScheduled> secondTimed = events.nextTimed(LifecycleEvent.RetryScheduled.class, WAIT);
                LifecycleEvent.RetryScheduled second = secondTimed.item();
                Recorder.Timed<LifecycleEvent.Connected> connected = events.nextTimed(LifecycleEvent.Connected.class, WAIT);

                assertThat(first.verdict().minimumDelay()).isEqualTo(Duration.ofMillis(400));
                assertThat(first.delay()).isGreaterThanOrEqualTo(Duration.ofMillis(400));
                assertThat(second.cause()).isInstanceOf(WebSocketUpgradeException.class);
                assertThat(((WebSocketUpgradeException) second.cause()).status()).isEqualTo(503);
                assertThat(second.verdict().minimumDelay()).isEqualTo(Duration.ofSeconds(1));
                assertThat(second.delay()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                assertThat(connected.nanos() - secondTimed.nanos()).isGreaterThanOrEqualTo(Duration.ofMillis(950).toNanos());
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void a401RefreshesTheCredentialsBeforeTheNextAttempt() throws Exception {
        List<String> seenAuth = new CopyOnWriteArrayList<>();
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> {
                String auth = String.valueOf(req.requestHeaders().get("Authorization"));
                seenAuth.add(auth);
                return auth.equals("Bearer fresh-token") ? res.sendWebsocket(NettyServer.ECHO)
                        : res.status(HttpResponseStatus.UNAUTHORIZED).send();
            });
            CredentialsProvider tokens = request -> Mono.just(Credentials.token(request.refresh() ? "fresh-token" : "stale-token"));
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, tokens);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                LifecycleEvent.RetryScheduled r = events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                events.next(LifecycleEvent.CredentialsRefreshed.class, WAIT);
                events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(r.verdict().kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY);
                assertThat(((WebSocketUpgradeException) r.cause()).status()).isEqualTo(401);
                assertThat(seenAuth).containsExactly("Bearer stale-token", "Bearer fresh-token");
                assertThat(events.describe()).doesNotContain("stale-token").doesNotContain("fresh-token");
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void anHttpRedirectOfTheUpgradeIsFollowedAsARedirectVerdict() throws Exception {
        try (NettyServer target = new NettyServer(); NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> res.status(HttpResponseStatus.TEMPORARY_REDIRECT)
                    .header("Location", "http://127.0.0.1:" + target.port() + "/moved").send());
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                LifecycleEvent.RetryScheduled r = events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                LifecycleEvent.Connected c = events.next(LifecycleEvent.Connected.class, WAIT);
                assertThat(r.verdict().kind()).isEqualTo(Verdict.Kind.REDIRECT);
                assertThat(c.endpoint()).isEqualTo(Endpoint.of("ws://127.0.0.1:" + target.port() + "/moved"));
                assertThat(target.upgrades.get()).isEqualTo(1);
            } finally {
                conn.close().block(WAIT);
            }
        }
    }

    @Test
    void noReconnectAfterTheServerSays1000() throws Exception {
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> res.sendWebsocket((in, out) -> out.sendClose(1000, "bye for good")));
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                events.next(LifecycleEvent.CloseReceived.class, e -> e.code() == 1000, WAIT);
                events.next(LifecycleEvent.Disconnected.class, WAIT);
                LifecycleEvent.Closed closed = events.next(LifecycleEvent.Closed.class, WAIT);
                assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class);
                assertThat(closed.cause().getMessage()).contains("1000");
                assertThat(events.names()).doesNotContain("RetryScheduled");
                assertThat(server.upgrades.get()).isEqualTo(1);
                assertThatThrownBy(() -> conn.onClosed().block(WAIT)).isInstanceOf(FatalConnectionException.class);
            }
        }
    }

    @Test
    void aMessageLargerThanTheLimitClosesWith1009AndDoesNotReconnect() throws Exception {
        try (NettyServer server = new NettyServer()) {
            server.behaviour((n, req, res) -> res.sendWebsocket((in, out) -> out.sendString(Mono.just("q".repeat(6000)))
                    .then(in.receive().then())));
            WebSocketClient client = quickClient().toBuilder().session(s -> s.maxMessageBytes(5000)).build();
            ResilientConnection<WebSocketSession> conn = connection(client, server, CredentialsProvider.none());
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.CloseSent.class, e -> e.code() == 1009, WAIT);
                LifecycleEvent.Closed closed = events.next(LifecycleEvent.Closed.class, WAIT);
                assertThat(closed.cause()).isInstanceOf(FatalConnectionException.class).hasMessageContaining("1009");
            }
        }
    }

    @Test
    void outboundMessagesWaitInABoundedBufferWhileDisconnected() throws Exception {
        try (NettyServer server = new NettyServer()) {
            server.stop();
            ResilientConnection<WebSocketSession> conn = connection(quickClient(), server, CredentialsProvider.none());
            ResilientWebSocket ws = ResilientWebSocket.buffered(conn, 2, OverflowPolicy.DROP_OLDEST);
            try {
                conn.start();
                Mono<Void> a = ws.sendText("a").cache();
                Mono<Void> b = ws.sendText("b").cache();
                Mono<Void> c = ws.sendText("c").cache();
                a.subscribe(null, e -> { });
                b.subscribe(null, e -> { });
                c.subscribe(null, e -> { });
                StepVerifier.create(a).expectError(BufferOverflowException.class).verify(WAIT);
                assertThat(ws.pending()).isEqualTo(2);

                server.restart();
                StepVerifier.create(ws.receive().map(WebSocketMessage::text).take(2))
                        .expectNext("b", "c")
                        .expectComplete()
                        .verify(WAIT);
                StepVerifier.create(b.then(c)).expectComplete().verify(WAIT);
            } finally {
                ws.dispose();
                conn.close().block(WAIT);
            }
            ResilientConnection<WebSocketSession> conn2 = connection(quickClient(), server, CredentialsProvider.none());
            ResilientWebSocket fast = ResilientWebSocket.failFast(conn2);
            StepVerifier.create(fast.sendText("too early")).expectError(IOException.class).verify(WAIT);
            fast.dispose();
            conn2.close().block(WAIT);
        }
    }
}
