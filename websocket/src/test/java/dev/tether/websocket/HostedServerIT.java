package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * A hosted server on a Reactor Netty HTTP server of the application's (the way Spring WebFlux's server hosts it):
 * the same admission, close handshake, limits, announcer and drain as on its own listener, while the host's other
 * routes keep answering on the same port.
 */
class HostedServerIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static WebSocketSession open(WebSocketClient client, String uri) {
        return client.connect(new TestAttempt(Endpoint.of(uri))).map(EstablishedSession::session).block(WAIT);
    }

    private static int refusal(WebSocketClient client, String uri) {
        try {
            open(client, uri);
        } catch (RuntimeException e) {
            Throwable t = e;
            while (t != null && !(t instanceof WebSocketUpgradeException)) {
                t = t.getCause();
            }
            assertThat(t).as("refused upgrade of " + uri).isInstanceOf(WebSocketUpgradeException.class);
            return ((WebSocketUpgradeException) t).status();
        }
        throw new AssertionError("the upgrade of " + uri + " was not refused");
    }

    private static String get(int port, String path) {
        return HttpClient.create().get().uri("http://127.0.0.1:" + port + path)
                .responseSingle((r, body) -> body.asString().defaultIfEmpty("").map(b -> r.status().code() + " " + b))
                .block(WAIT);
    }

    @Test
    void sessionsOnTheHostsPortAuthenticateEchoCloseCleanlyAndAreDrainedWith1001WhileTheHostKeepsServing() {
        WebSocketServer server = WebSocketServer.builder().hosted(true).path("/ws")
                .authenticator(r -> Mono.just(r.header("x-key").filter("letmein"::equals).isPresent()
                        ? AuthDecision.accept("peer") : AuthDecision.unauthorized("no key")))
                .maxSessionsPerAddress(2)
                .session(s -> s.maxMessageBytes(64).heartbeat(Heartbeat.of(Duration.ofMillis(200), Duration.ofSeconds(2))))
                .announcer(OneBotAnnouncer.builder(7).heartbeatInterval(null).enableDisable(true).build())
                .handler(s -> s.send(s.receive()))
                .build();
        DisposableServer host = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> server.routes(r).get("/hello", (req, res) -> res.sendString(Mono.just("hello"))))
                .bindNow(WAIT);
        List<ServerEvent> events = new CopyOnWriteArrayList<>();
        Disposable sub = server.events().subscribe(events::add);
        String uri = "ws://127.0.0.1:" + host.port() + "/ws";
        WebSocketClient withKey = WebSocketClient.builder().headers(a -> Map.of("x-key", "letmein")).build();
        try {
            assertThat(refusal(withKey, uri)).as("not started yet").isEqualTo(503);
            server.start().block(WAIT);
            assertThat(server.isRunning()).isTrue();
            assertThat(server.port()).isZero();
            assertThat(get(host.port(), "/hello")).isEqualTo("200 hello");
            assertThat(refusal(WebSocketClient.builder().build(), uri)).as("no key").isEqualTo(401);

            // Echo, then a close handshake the peer starts: clean on both sides, the server closes TCP.
            WebSocketSession a = open(withKey, uri);
            Mono<List<String>> firstThree = a.receive().map(WebSocketMessage::text).take(3).collectList().cache();
            firstThree.subscribe();
            a.send(WebSocketMessage.text("ping-1")).block(WAIT);
            assertThat(firstThree.block(WAIT)).as("the announcer's hello, then the echo")
                    .anyMatch(m -> m.contains("\"sub_type\":\"connect\"")).endsWith("ping-1");
            Mono<ServerEvent.SessionClosed> closedOnServer = server.events().ofType(ServerEvent.SessionClosed.class).next()
                    .cache();
            closedOnServer.subscribe();
            CloseSummary peerSide = a.close(1000, "done").block(WAIT);
            assertThat(peerSide.clean()).isTrue();
            assertThat(peerSide.codeReceived()).isEqualTo(1000);
            assertThat(peerSide.tcpClosedBy()).as("the server closed TCP after the handshake").isEqualTo(CloseSummary.Side.PEER);
            ServerEvent.SessionClosed serverSide = closedOnServer.block(WAIT);
            assertThat(serverSide.summary().clean()).isTrue();
            assertThat(serverSide.summary().tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);

            // Limits: a message beyond maxMessageBytes closes with 1009; a third session from one address gets 429.
            WebSocketSession big = open(withKey, uri);
            big.receive().subscribe(m -> { }, e -> { });
            big.send(WebSocketMessage.text("x".repeat(100))).onErrorResume(e -> Mono.empty()).block(WAIT);
            assertThat(big.closed().block(WAIT).codeReceived()).isEqualTo(1009);
            WebSocketSession b = open(withKey, uri);
            WebSocketSession c = open(withKey, uri);
            List<String> bSaw = new CopyOnWriteArrayList<>();
            List<String> cSaw = new CopyOnWriteArrayList<>();
            b.receive().subscribe(m -> bSaw.add(m.text()), e -> { });
            c.receive().subscribe(m -> cSaw.add(m.text()), e -> { });
            assertThat(refusal(withKey, uri)).as("maxSessionsPerAddress").isEqualTo(429);
            // Heartbeat: the server pings each session (every 200 ms here) and measures the pong.
            dev.tether.core.testing.Await.until(() -> server.sessions().all().stream()
                    .allMatch(s -> s.lastRoundTrip().isPresent()), WAIT, "a ping round trip on every hosted session");
            assertThat(server.sessions().count()).isEqualTo(2);

            // Stop: goodbye and 1001 to every session, a report, and 503 to new upgrades; the host still serves.
            DrainReport report = server.stop().block(WAIT);
            assertThat(report.sessions()).isEqualTo(2);
            assertThat(report.closedCleanly()).isEqualTo(2);
            assertThat(report.aborted()).isZero();
            for (WebSocketSession s : List.of(b, c)) {
                CloseSummary closed = s.closed().block(WAIT);
                assertThat(closed.codeReceived()).isEqualTo(1001);
                assertThat(closed.clean()).isTrue();
                assertThat(closed.tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
            }
            assertThat(bSaw).anyMatch(m -> m.contains("\"sub_type\":\"disable\""));
            assertThat(cSaw).anyMatch(m -> m.contains("\"sub_type\":\"disable\""));
            assertThat(server.sessions().count()).isZero();
            assertThat(refusal(withKey, uri)).as("stopped").isEqualTo(503);
            assertThat(get(host.port(), "/hello")).isEqualTo("200 hello");
            assertThat(events).anyMatch(e -> e instanceof ServerEvent.Stopped);

            // And it starts again on the same host.
            server.start().block(WAIT);
            WebSocketSession again = open(withKey, uri);
            assertThat(server.disposeNow(WAIT).closedCleanly()).isEqualTo(1);
            assertThat(again.closed().block(WAIT).codeReceived()).isEqualTo(1001);
        } finally {
            sub.dispose();
            server.stop().block(WAIT);
            host.disposeNow(WAIT);
        }
    }

    @Test
    void settingsThatBelongToTheHostAreRefusedAndAnOwnListenerServerIsNotMountable() {
        assertThatThrownBy(() -> WebSocketServer.builder().hosted(true).port(8080).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("port (8080)").hasMessageContaining("hosted");
        assertThatThrownBy(() -> WebSocketServer.builder().hosted(true).handshakeTimeout(Duration.ofSeconds(3)).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("handshakeTimeout");
        assertThatThrownBy(() -> WebSocketServer.builder().hosted(true).httpServer(s -> s).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("httpServer");
        WebSocketServer own = WebSocketServer.builder().build();
        assertThat(own.isHosted()).isFalse();
        assertThatThrownBy(() -> HttpServer.create().route(own::routes))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("hosted(true)");
        WebSocketServer hosted = WebSocketServer.builder().hosted(true).path("/x").build();
        assertThat(hosted.toBuilder().build().isHosted()).as("toBuilder keeps hosted").isTrue();
        assertThat(hosted.toString()).contains("hosted /x");
    }
}
