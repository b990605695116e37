package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.testkit.Sockets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The server against real clients: the project's own client and a raw-socket client that
 * misbehaves on purpose.
 */
class WebSocketServerIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Clock FIXED = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);

    static WebSocketSession open(WebSocketClient client, String uri) {
        return client.connect(new TestAttempt(Endpoint.of(uri))).map(EstablishedSession::session).block(WAIT);
    }

    static String uri(WebSocketServer server, String path) {
        return "ws://127.0.0.1:" + server.port() + path;
    }

    private static WebSocketServer.Builder local() {
        return WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws");
    }

    @Test
    void oneBotAnnouncerSendsConnectAndEnableOnOpenAndHeartbeatsInTheV11Shape() {
        WebSocketServer server = local()
                .announcer(OneBotAnnouncer.builder(10001).clock(FIXED).heartbeatInterval(Duration.ofMillis(300)).build())
                .build();
        server.start().block(WAIT);
        try {
            WebSocketSession s = open(WebSocketClient.builder().build(), uri(server, "/ws"));
            StepVerifier.create(s.receive().map(WebSocketMessage::text).take(3))
                    .expectNext("{\"time\":1700000000,\"self_id\":10001,\"post_type\":\"meta_event\",\"meta_event_type\":\"lifecycle\","
                            + "\"sub_type\":\"connect\"}")
                    .expectNext("{\"time\":1700000000,\"self_id\":10001,\"post_type\":\"meta_event\",\"meta_event_type\":\"lifecycle\","
                            + "\"sub_type\":\"enable\"}")
                    .expectNext("{\"time\":1700000000,\"self_id\":10001,\"post_type\":\"meta_event\",\"meta_event_type\":\"heartbeat\","
                            + "\"status\":{\"online\":true,\"good\":true},\"interval\":300}")
                    .expectComplete()
                    .verify(WAIT);
            s.close(1000, "").block(WAIT);
        } finally {
            server.disposeNow(WAIT);
        }
    }

    /**
     * The client has its 101 a moment before the server registers the session; a stop in that moment must still
     * close the session cleanly and count it (it was aborted at the drain's end, seen once in a loaded run).
     */
    @Test
    void aSessionUpgradedJustAsTheStopBeginsIsClosedCleanlyAndCounted() {
        // The server's event loop is kept busy for 100 ms right after the 101 is written, before Reactor Netty
        // hands the connection to the session: the client has its session and the stop begins in that window.
        WebSocketServer server = local().httpServer(http -> http.doOnChannelInit((observer, ch, address) -> {
            if (ch.pipeline().get(reactor.netty.NettyPipeline.HttpCodec) != null) {
                ch.pipeline().addAfter(reactor.netty.NettyPipeline.HttpCodec, "test.late-session", new LateAfterUpgrade());
            }
        })).build();
        WebSocketClient client = WebSocketClient.builder().build();
        try {
            for (int i = 0; i < 20; i++) {
                server.start().block(WAIT);
                WebSocketSession s = open(client, uri(server, "/ws"));
                DrainReport report = server.stop().block(WAIT);
                CloseSummary closed = s.closed().block(WAIT);
                assertThat(LateAfterUpgrade.delayed).as("the window was opened").isPositive();
                assertThat(closed.codeReceived()).as("round %d", i).isEqualTo(1001);
                assertThat(closed.clean()).as("round %d", i).isTrue();
                assertThat(report.sessions()).as("round %d: %s", i, report).isEqualTo(1);
                assertThat(report.closedCleanly()).as("round %d: %s", i, report).isEqualTo(1);
                assertThat(report.aborted()).as("round %d", i).isZero();
            }
        } finally {
            server.disposeNow(WAIT);
        }
    }

    @Test
    void registryCountsBroadcastsAndClosesOneOrAllAndTheServerClosesTcpAtOnce() {
        WebSocketServer server = local().build();
        List<ServerEvent> events = new CopyOnWriteArrayList<>();
        Disposable sub = server.events().subscribe(events::add);
        server.start().block(WAIT);
        try {
            Mono<List<ServerEvent>> opened = server.events().filter(e -> e instanceof ServerEvent.SessionOpened).take(3)
                    .collectList().cache();
            opened.subscribe();
            WebSocketClient client = WebSocketClient.builder().build();
            List<WebSocketSession> clients = List.of(open(client, uri(server, "/ws")), open(client, uri(server, "/ws")),
                    open(client, uri(server, "/ws")));
            opened.block(WAIT);
            assertThat(server.sessions().count()).isEqualTo(3);
            assertThat(server.sessions().all()).hasSize(3);

            List<Mono<String>> firsts = clients.stream().map(c -> c.receive().next().map(WebSocketMessage::text).cache()).toList();
            firsts.forEach(Mono::subscribe);
            assertThat(server.sessions().broadcast(WebSocketMessage.text("hi")).block(WAIT)).isEqualTo(3);
            firsts.forEach(m -> assertThat(m.block(WAIT)).isEqualTo("hi"));

            WebSocketSession victim = server.sessions().all().iterator().next();
            CloseSummary serverSide = server.sessions().close(victim.id(), 4000, "kicked").block(WAIT);
            assertThat(serverSide.clean()).isTrue();
            assertThat(serverSide.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
            assertThat(server.sessions().count()).isEqualTo(2);
            CloseSummary clientSide = clients.stream().filter(c -> c.state() != CloseState.OPEN)
                    .findFirst().orElseThrow().closed().block(WAIT);
            assertThat(clientSide.codeReceived()).isEqualTo(4000);
            assertThat(clientSide.reasonReceived()).isEqualTo("kicked");
            assertThat(clientSide.tcpClosedBy()).as("the server closed TCP right after the handshake").isEqualTo(CloseSummary.Side.PEER);
            assertThat(clientSide.timersFired()).isEmpty();

            List<CloseSummary> rest = server.sessions().closeAll(1001, "bye").block(WAIT);
            assertThat(rest).hasSize(2).allMatch(CloseSummary::clean);
            assertThat(server.sessions().count()).isZero();
            assertThat(server.sessions().get(victim.id())).isEmpty();

            List<String> story = events.stream()
                    .filter(e -> !(e instanceof ServerEvent.Started))
                    .filter(e -> victim.id().equals(sessionId(e)))
                    .map(e -> e.getClass().getSimpleName()).toList();
            assertThat(story).containsExactly("SessionOpened", "CloseSent", "CloseReceived", "SessionClosed");
            assertThatThrownBy(() -> server.sessions().close(victim.id(), 1005, "")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1005");
        } finally {
            sub.dispose();
            server.disposeNow(WAIT);
        }
    }

    private static String sessionId(ServerEvent e) {
        if (e instanceof ServerEvent.SessionOpened o) {
            return o.sessionId();
        }
        if (e instanceof ServerEvent.CloseSent c) {
            return c.sessionId();
        }
        if (e instanceof ServerEvent.CloseReceived c) {
            return c.sessionId();
        }
        if (e instanceof ServerEvent.SessionClosed c) {
            return c.sessionId();
        }
        return "";
    }

    @Test
    void aClientThatNeverAnswersCloseIsAbortedAtTheDrainBoundAndNewUpgradesGet503() throws Exception {
        Duration drain = Duration.ofMillis(600);
        WebSocketServer server = local().drainTimeout(drain)
                .announcer(OneBotAnnouncer.builder(42).heartbeatInterval(null).build())
                .build();
        server.start().block(WAIT);
        int port = server.port();
        WebSocketClient client = WebSocketClient.builder().build();
        try (RawClient stuck = new RawClient(port, "/ws", true, false)) {
            WebSocketSession good = open(client, uri(server, "/ws"));
            Mono<List<String>> goodTexts = good.receive().map(WebSocketMessage::text).collectList().cache();
            goodTexts.subscribe();
            Mono<ServerEvent> drainStarted = server.events().filter(e -> e instanceof ServerEvent.DrainStarted).next().cache();
            drainStarted.subscribe();
            awaitCount(server, 2);

            long t0 = System.nanoTime();
            Mono<DrainReport> stopping = server.stop().cache();
            stopping.subscribe();
            drainStarted.block(WAIT);
            assertThatThrownBy(() -> open(client, uri(server, "/ws")))
                    .satisfies(e -> assertThat(((WebSocketUpgradeException) reactor.core.Exceptions.unwrap(e)).status()).isEqualTo(503));
            DrainReport report = stopping.block(WAIT);
            long took = System.nanoTime() - t0;

            assertThat(report.reason()).isEqualTo(DrainReason.STOP);
            assertThat(report.sessions()).isEqualTo(2);
            assertThat(report.closedCleanly()).isEqualTo(1);
            assertThat(report.aborted()).isEqualTo(1);
            assertThat(report.refused()).isGreaterThanOrEqualTo(1);
            assertThat(took).isGreaterThanOrEqualTo(drain.toNanos() - Duration.ofMillis(30).toNanos())
                    .isLessThan(drain.plusMillis(900).toNanos());

            assertThat(stuck.awaitEof(WAIT)).as("the stuck client saw the server's FIN").isTrue();
            assertThat(stuck.closeCodes).containsExactly(1001);
            assertThat(stuck.texts).anyMatch(t -> t.contains("\"sub_type\":\"disable\""));
            CloseSummary goodEnd = good.closed().block(WAIT);
            assertThat(goodEnd.codeReceived()).isEqualTo(1001);
            assertThat(goodTexts.block(WAIT)).last().asString().contains("\"sub_type\":\"disable\"");
            assertThat(Sockets.established(port)).isEmpty();
            assertThat(server.isRunning()).isFalse();

            // Restart on the same port: new sessions get messages again.
            server.start().block(WAIT);
            assertThat(server.port()).isEqualTo(port);
            WebSocketSession again = open(client, uri(server, "/ws"));
            StepVerifier.create(again.receive().map(WebSocketMessage::text).take(1))
                    .expectNextMatches(t -> t.contains("\"sub_type\":\"connect\""))
                    .expectComplete()
                    .verify(WAIT);
        } finally {
            server.disposeNow(WAIT);
        }
    }

    @Test
    void serverHeartbeatClosesASessionWhosePongIsOverdue() throws Exception {
        WebSocketServer server = local().session(s -> s.heartbeat(Heartbeat.of(Duration.ofMillis(200), Duration.ofMillis(300)))).build();
        Mono<ServerEvent.SessionClosed> closed = server.events().ofType(ServerEvent.SessionClosed.class).next().cache();
        closed.subscribe();
        server.start().block(WAIT);
        try (RawClient silent = new RawClient(server.port(), "/ws", false, false)) {
            ServerEvent.SessionClosed c = closed.block(WAIT);
            assertThat(c.summary().timersFired()).containsExactly(CloseTimer.PONG_TIMEOUT);
            assertThat(c.summary().codeSent()).isEqualTo(1011);
            assertThat(silent.awaitEof(WAIT)).isTrue();
            assertThat(silent.closeCodes).containsExactly(1011);
            assertThat(Sockets.established(silent.localPort(), server.port())).isEmpty();
        } finally {
            server.disposeNow(WAIT);
        }
    }

    /**
     * Wrapped messages go out without a copy, and the library never writes to the arrays it was handed: the client's
     * frames are masked (RFC 6455 5.3) into buffers of their own. Large enough to span many TCP segments.
     */
    @Test
    void wrappedArraysAreSentAsTheyAreAndNeverWrittenTo() {
        WebSocketServer server = local()
                .handler(session -> session.send(session.receive().map(m -> WebSocketMessage.wrapBinary(m.bytes()))))
                .build();
        server.start().block(WAIT);
        try {
            java.util.Random random = new java.util.Random(42);
            List<byte[]> arrays = new java.util.ArrayList<>();
            List<byte[]> snapshots = new java.util.ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] a = new byte[1 + random.nextInt(70_000)];
                random.nextBytes(a);
                arrays.add(a);
                snapshots.add(a.clone());
            }
            WebSocketSession s = open(WebSocketClient.builder().build(), uri(server, "/ws"));
            List<byte[]> echoed = new CopyOnWriteArrayList<>();
            StepVerifier.create(s.receive().take(arrays.size()).doOnNext(m -> echoed.add(m.bytes())))
                    .then(() -> s.send(reactor.core.publisher.Flux.fromIterable(arrays).map(WebSocketMessage::wrapBinary))
                            .subscribe())
                    .expectNextCount(arrays.size())
                    .expectComplete()
                    .verify(WAIT);
            for (int i = 0; i < arrays.size(); i++) {
                assertThat(arrays.get(i)).as("wrapped array %d after its send", i).isEqualTo(snapshots.get(i));
                assertThat(echoed.get(i)).as("echo %d", i).isEqualTo(snapshots.get(i));
            }
            assertThat(s.close(1000, "done").block(WAIT).clean()).isTrue();
        } finally {
            server.disposeNow(WAIT);
        }
    }

    @Test
    @SuppressWarnings("deprecation") // self-signed test certificate and the plain SslContext overload are enough here
    void wssRoundTripWithTlsOnBothSides() throws Exception {
        io.netty.handler.ssl.util.SelfSignedCertificate cert = new io.netty.handler.ssl.util.SelfSignedCertificate("localhost");
        WebSocketServer server = local()
                .httpServer(h -> h.secure(spec -> spec.sslContext(
                        reactor.netty.http.Http11SslContextSpec.forServer(cert.certificate(), cert.privateKey()))))
                .handler(session -> session.send(session.receive().map(m -> WebSocketMessage.text("echo:" + m.text()))))
                .build();
        server.start().block(WAIT);
        try {
            WebSocketClient client = WebSocketClient.builder()
                    .sslContext(io.netty.handler.ssl.SslContextBuilder.forClient().trustManager(cert.cert()).build())
                    .build();
            WebSocketSession s = open(client, "wss://localhost:" + server.port() + "/ws");
            StepVerifier.create(s.receive().map(WebSocketMessage::text).take(1))
                    .then(() -> s.sendText("over tls").subscribe())
                    .expectNext("echo:over tls")
                    .expectComplete()
                    .verify(WAIT);
            CloseSummary end = s.close(1000, "done").block(WAIT);
            assertThat(end.clean()).isTrue();
            assertThat(end.tcpClosedBy()).as(end.toString()).isEqualTo(CloseSummary.Side.PEER);
        } finally {
            server.disposeNow(WAIT);
            cert.delete();
        }
    }

    @Test
    void lifecycleMethodsForASpringAdapter() throws Exception {
        WebSocketServer server = local().phase(123).build();
        assertThat(server.isRunning()).isFalse();
        server.start().block(WAIT);
        assertThat(server.isRunning()).isTrue();
        assertThat(server.getPhase()).isEqualTo(123);
        WebSocketSession s = open(WebSocketClient.builder().build(), uri(server, "/ws"));
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        server.stop(done::countDown);
        assertThat(done.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(server.isRunning()).isFalse();
        assertThat(s.closed().block(WAIT).codeReceived()).isEqualTo(1001);
        assertThat(server.stop().block(WAIT).sessions()).as("stopping a stopped server does nothing").isZero();
    }

    @Test
    void otherPathsGet404AndTheBuilderNamesBadValues() {
        WebSocketServer server = local().build();
        server.start().block(WAIT);
        try {
            assertThatThrownBy(() -> open(WebSocketClient.builder().build(), uri(server, "/other")))
                    .satisfies(e -> assertThat(((WebSocketUpgradeException) reactor.core.Exceptions.unwrap(e)).status()).isEqualTo(404));
        } finally {
            server.disposeNow(WAIT);
        }
        assertThatThrownBy(() -> WebSocketServer.builder().port(70000)).hasMessageContaining("port").hasMessageContaining("70000");
        assertThatThrownBy(() -> WebSocketServer.builder().path("ws")).hasMessageContaining("path");
        assertThatThrownBy(() -> WebSocketServer.builder().drainTimeout(Duration.ZERO)).hasMessageContaining("drainTimeout");
        assertThatThrownBy(() -> WebSocketClient.builder().session(s -> s.closeHandshakeTimeout(Duration.ofSeconds(-1))))
                .hasMessageContaining("closeHandshakeTimeout");
    }

    /** Waits (bounded) until the registry holds at least n sessions: the server registers a session just after the upgrade. */
    static void awaitCount(WebSocketServer server, int n) {
        reactor.core.publisher.Flux.interval(Duration.ofMillis(5)).filter(i -> server.sessions().count() >= n).next().block(WAIT);
        assertThat(server.sessions().count()).isGreaterThanOrEqualTo(n);
    }

    /** Busy (not blocked: the loop is watched for blocking calls) for 100 ms once a 101 has been written. */
    static final class LateAfterUpgrade extends io.netty.channel.ChannelOutboundHandlerAdapter {
        static volatile int delayed;
        static volatile long spun;

        @Override
        public void write(io.netty.channel.ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (msg instanceof io.netty.handler.codec.http.HttpResponse r && r.status().code() == 101) {
                promise.addListener(f -> {
                    delayed++;
                    long until = System.nanoTime() + 100_000_000L;
                    long spins = 0;
                    while (System.nanoTime() < until) {
                        spins++; // Thread.onSpinWait() counts as blocking for BlockHound
                    }
                    spun = spins;
                });
            }
            ctx.write(msg, promise);
        }
    }
}
