package dev.tether.spring.boot;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.MqttClient;
import dev.tether.spring.boot.internal.SpringListener;
import dev.tether.websocket.AuthDecision;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@code tether.websocket.server.listener=spring}: a real application (WebFlux on Reactor Netty, {@code server.port=0},
 * {@code server.shutdown=graceful}) serves Tether's WebSocket server on its own port. Real peers (the JDK's WebSocket
 * client and Tether's Reactor Netty client) connect to Spring's port and path; the application's routes still answer
 * there; shutdown drains every session with 1001 before the MQTT client's DISCONNECT reaches the broker.
 */
class TetherOnSpringServerIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SECRET = "starter-test-secret-of-at-least-32-bytes";
    private static final String C = "tether.mqtt.clients.telemetry.";
    private static final int PEERS = 3;

    /** What the peers and the application saw, in order. */
    static final List<String> seen = new CopyOnWriteArrayList<>();

    @Test
    void webSocketSessionsOnSpringsPortEchoCloseCleanlyAndAreDrainedWith1001BeforeTheMqttDisconnect() throws Exception {
        seen.clear();
        try (Broker broker = Broker.start((clientId, user, password) -> true, e -> seen.add("broker " + e))) {
            ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1", "server.shutdown=graceful",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=telemetry-service",
                    C + "jwt.algorithm=HS256", C + "jwt.secret=" + SECRET, C + "jwt.subject=telemetry-service",
                    "tether.websocket.server.listener=spring", "tether.websocket.server.path=/feed",
                    "tether.websocket.server.max-message-bytes=1024").run();
            boolean closed = false;
            List<ResilientConnection<WebSocketSession>> peers = new ArrayList<>();
            List<Disposable> subscriptions = new ArrayList<>();
            List<Recorder<LifecycleEvent>> recorders = new ArrayList<>();
            try {
                int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port", "0"));
                String feed = "ws://127.0.0.1:" + port + "/feed";
                ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                WebSocketServer server = ctx.getBean(WebSocketServer.class);
                assertThat(server.isHosted()).isTrue();
                assertThat(ctx.getBean(SpringListener.class).getOrder()).isEqualTo(SpringListener.ORDER);

                // The application's own routes answer on the same port; its GET /feed is behind Tether's mapping.
                HttpClient jdk = HttpClient.newHttpClient();
                assertThat(httpGet(jdk, port, "/hello")).isEqualTo("200 hello");
                assertThat(httpGet(jdk, port, "/feed")).as("a plain GET on the WebSocket path").startsWith("426");

                // The Authenticator (a customizer's) decides the upgrade before the 101.
                assertThat(refusedStatus(jdk, feed)).isEqualTo(401);

                // The JDK's client: echo, then its close handshake answered with 1000.
                JdkPeer jdkPeer = new JdkPeer();
                WebSocket ws = jdk.newWebSocketBuilder().header("x-key", "letmein")
                        .buildAsync(URI.create(feed), jdkPeer).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                ws.sendText("echo me", true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(jdkPeer.texts.take()).isEqualTo("echo me");
                ws.sendClose(1000, "done").get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertThat(jdkPeer.closeCode.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1000);

                Await.until(() -> server.sessions().count() == 0, WAIT, "the JDK peer's session gone from the registry");

                // Tether's Reactor Netty client: a clean handshake and the server closes TCP after it.
                WebSocketClient keyed = WebSocketClient.builder().headers(a -> Map.of("x-key", "letmein")).build();
                WebSocketSession one = keyed.connect(new TestAttempt(Endpoint.of(feed))).map(s -> s.session()).block(WAIT);
                Mono<ServerEvent.SessionClosed> closedOnServer = server.events().ofType(ServerEvent.SessionClosed.class)
                        .next().cache();
                closedOnServer.subscribe();
                Mono<String> echoed = one.receive().next().map(WebSocketMessage::text).cache();
                echoed.subscribe();
                one.send(WebSocketMessage.text("again")).block(WAIT);
                assertThat(echoed.block(WAIT)).isEqualTo("again");
                CloseSummary peerSide = one.close(1000, "bye").block(WAIT);
                assertThat(peerSide.clean()).isTrue();
                assertThat(peerSide.codeReceived()).isEqualTo(1000);
                assertThat(peerSide.tcpClosedBy()).as("Spring's server closed TCP right after the handshake")
                        .isEqualTo(CloseSummary.Side.PEER);
                CloseSummary serverSide = closedOnServer.block(WAIT).summary();
                assertThat(serverSide.clean()).isTrue();
                assertThat(serverSide.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
                // A message beyond max-message-bytes: 1009, as on the server's own port.
                WebSocketSession big = keyed.connect(new TestAttempt(Endpoint.of(feed))).map(s -> s.session()).block(WAIT);
                big.receive().subscribe(m -> { }, e -> { });
                big.send(WebSocketMessage.text("x".repeat(2000))).onErrorResume(e -> Mono.empty()).block(WAIT);
                assertThat(big.closed().block(WAIT).codeReceived()).isEqualTo(1009);

                // Peers that stay until shutdown.
                for (int i = 1; i <= PEERS; i++) {
                    ResilientConnection<WebSocketSession> peer = ResilientConnection.builder(keyed)
                            .endpoint(Endpoint.of(feed)).name("peer-" + i).build();
                    peers.add(peer);
                    subscriptions.add(peer.lifecycle().subscribe(e -> {
                        if (e instanceof LifecycleEvent.CloseReceived r) {
                            seen.add("ws close " + r.code() + " (broker has telemetry-service: "
                                    + broker.connectedClients().contains("telemetry-service") + ")");
                        }
                    }, e -> { }));
                    recorders.add(Recorder.lifecycle(peer.lifecycle()));
                    peer.start();
                }
                for (Recorder<LifecycleEvent> r : recorders) {
                    r.next(LifecycleEvent.Connected.class, WAIT);
                }
                Await.until(() -> server.sessions().count() == PEERS, WAIT, "every peer's session on the server");
                seen.clear();

                long shutdown = System.nanoTime();
                ctx.close();
                closed = true;
                for (Recorder<LifecycleEvent> r : recorders) {
                    assertThat(r.next(LifecycleEvent.CloseReceived.class, WAIT).code()).isEqualTo(1001);
                }
                Await.until(() -> seen.contains("broker disconnect:telemetry-service"), WAIT, "the broker's DISCONNECT");
                System.out.printf("shutdown on Spring's port: %d sessions drained with 1001, then DISCONNECT; context closed"
                        + " in %d ms%n", PEERS, Duration.ofNanos(System.nanoTime() - shutdown).toMillis());
                String close = "ws close 1001 (broker has telemetry-service: true)";
                assertThat(seen.stream().filter(close::equals)).hasSize(PEERS);
                assertThat(seen.indexOf("readiness REFUSING_TRAFFIC")).isGreaterThanOrEqualTo(0)
                        .isLessThan(seen.indexOf(close));
                assertThat(seen.lastIndexOf(close)).isLessThan(seen.indexOf("broker disconnect:telemetry-service"));
                assertThat(seen).noneMatch(e -> e.startsWith("ws close") && !e.equals(close));
            } finally {
                subscriptions.forEach(Disposable::dispose);
                recorders.forEach(Recorder::close);
                for (ResilientConnection<WebSocketSession> peer : peers) {
                    peer.abort().block(WAIT);
                }
                if (!closed) {
                    ctx.close();
                }
            }
        }
    }

    private static String httpGet(HttpClient jdk, int port, String path) throws Exception {
        HttpResponse<String> r = jdk.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body().strip();
    }

    private static int refusedStatus(HttpClient jdk, String uri) throws Exception {
        try {
            jdk.newWebSocketBuilder().buildAsync(URI.create(uri), new JdkPeer()).get(WAIT.toSeconds(), TimeUnit.SECONDS)
                    .abort();
        } catch (java.util.concurrent.ExecutionException | CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
            return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
        }
        throw new AssertionError("the upgrade of " + uri + " was not refused");
    }

    /** The JDK's WebSocket client as a peer: collects texts and the close code it receives. */
    static final class JdkPeer implements WebSocket.Listener {
        final java.util.concurrent.BlockingQueue<String> texts = new java.util.concurrent.LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            texts.add(data.toString());
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closeCode.completeExceptionally(error);
        }
    }

    /** The application: an echo handler, its own WebFlux routes and an authenticator. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {

        @Bean
        TetherWebSocketHandler echo() {
            return session -> session.send(session.receive());
        }

        @Bean
        TetherWebSocketServerCustomizer keyCheck() {
            return b -> b.authenticator(r -> Mono.just(r.header("x-key").filter("letmein"::equals).isPresent()
                    ? AuthDecision.accept("peer") : AuthDecision.unauthorized("no key")));
        }

        @Bean
        RouterFunction<ServerResponse> routes() {
            return RouterFunctions.route(RequestPredicates.GET("/hello"), r -> ServerResponse.ok().bodyValue("hello"))
                    .andRoute(RequestPredicates.GET("/feed"), r -> ServerResponse.ok().bodyValue("the application's /feed"));
        }

        @Bean
        ApplicationListener<AvailabilityChangeEvent<ReadinessState>> readinessRecorder() {
            return e -> seen.add("readiness " + e.getState());
        }
    }
}
