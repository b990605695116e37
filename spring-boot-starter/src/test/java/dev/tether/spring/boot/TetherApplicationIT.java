package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Real application starts (WebFlux, actuator, {@code server.shutdown=graceful}) against an embedded broker that
 * checks JWTs and a real WebSocket client: health across a broker restart, readiness, and the shutdown order as the
 * peers see it.
 */
class TetherApplicationIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SECRET = "starter-test-secret-of-at-least-32-bytes";
    private static final String C = "tether.mqtt.clients.telemetry.";
    private static final int PEERS = 3;

    /** What the peers and the application saw, in order. */
    static final List<String> seen = new CopyOnWriteArrayList<>();

    @Test
    void healthFollowsTheBrokerAndShutdownDrainsWebSocketsWithReadinessOffBeforeTheMqttDisconnect() {
        seen.clear();
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        try (Broker broker = Broker.start((clientId, user, password) -> {
            try {
                verifier.verify(password == null ? null : new String(password, StandardCharsets.UTF_8), java.time.Instant.now());
                return true;
            } catch (Exception e) {
                return false;
            }
        }, e -> seen.add("broker " + e))) {
            int wsPort = Broker.freePort();
            ConfigurableApplicationContext ctx = new SpringApplicationBuilder(App.class).properties(
                    "server.port=0", "server.address=127.0.0.1", "server.shutdown=graceful",
                    "management.endpoints.web.exposure.include=health", "management.endpoint.health.show-details=always",
                    "management.endpoint.health.probes.enabled=true", "tether.health.readiness=true",
                    C + "endpoints=" + broker.tcpUri(), C + "client-id=telemetry-service", C + "reconnect.initial-delay=100ms", C + "reconnect.max-delay=500ms",
                    C + "jwt.algorithm=HS256", C + "jwt.secret=" + SECRET, C + "jwt.subject=telemetry-service",
                    "tether.websocket.server.host=127.0.0.1", "tether.websocket.server.port=" + wsPort,
                    "tether.websocket.server.path=/feed").run();
            boolean closed = false;
            List<ResilientConnection<WebSocketSession>> peers = new ArrayList<>();
            for (int i = 1; i <= PEERS; i++) {
                peers.add(ResilientConnection.builder(WebSocketClient.builder().build())
                        .endpoint(Endpoint.of("ws://127.0.0.1:" + wsPort + "/feed")).name("peer-" + i).build());
            }
            List<Disposable> subscriptions = new ArrayList<>();
            List<Recorder<LifecycleEvent>> recorders = new ArrayList<>();
            try {
                WebClient http = LocalHttp.of(ctx);
                ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                assertThat(LocalHttp.get(http, "/actuator/health/tether/telemetry")).contains("\"status\":\"UP\"")
                        .contains("\"endpoint\":\"" + broker.tcpUri() + "\"").contains("\"state\":\"CONNECTED\"");
                assertThat(LocalHttp.get(http, "/actuator/health/readiness")).contains("\"status\":\"UP\"");

                // The broker goes away: DOWN with the cause and the next retry; readiness goes DOWN with it (opt-in).
                broker.stop();
                Await.until(() -> LocalHttp.get(http, "/actuator/health/tether/telemetry").contains("\"status\":\"DOWN\""), WAIT,
                        "health DOWN after the broker stopped");
                String down = LocalHttp.get(http, "/actuator/health/tether/telemetry");
                assertThat(down).contains("lastDisconnectCause");
                Await.until(() -> LocalHttp.get(http, "/actuator/health/tether/telemetry").contains("nextRetry"), WAIT, "the next retry shown");
                assertThat(LocalHttp.get(http, "/actuator/health/readiness")).contains("\"status\":\"DOWN\"");
                broker.restart();
                Await.until(() -> LocalHttp.get(http, "/actuator/health/tether/telemetry").contains("\"status\":\"UP\""), WAIT,
                        "health UP after the broker came back");
                Await.until(() -> LocalHttp.get(http, "/actuator/health/readiness").contains("\"status\":\"UP\""), WAIT, "ready again");

                // WebSocket consumers of the MQTT telemetry, through the application's handler.
                List<List<String>> received = new ArrayList<>();
                for (ResilientConnection<WebSocketSession> peer : peers) {
                    List<String> mine = new CopyOnWriteArrayList<>();
                    received.add(mine);
                    subscriptions.add(peer.perSession(WebSocketSession::receive).subscribe(m -> mine.add(m.text())));
                    subscriptions.add(peer.lifecycle().subscribe(e -> {
                        if (e instanceof LifecycleEvent.CloseReceived r) {
                            // At the moment a session gets its close frame, the broker still has the MQTT client.
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
                WebSocketServer server = ctx.getBean(WebSocketServer.class);
                Await.until(() -> server.sessions().count() == PEERS, WAIT, "every session on the server");
                MqttClient device = MqttClient.builder().endpoint(broker.tcpUri()).clientId("device-1")
                        .credentials(JwtCredentialsProvider.builder().selfSigned(JwtSigner.builder()
                                        .hs256(SECRET.getBytes(StandardCharsets.UTF_8)).subject("device-1").build())
                                .mapping(TokenMapping.password("device-1")).build()).build().start();
                Await.until(() -> {
                    device.publish(MqttMessage.of("telemetry/device-1", "21.5", MqttQos.AT_LEAST_ONCE)).block(WAIT);
                    return received.stream().allMatch(mine -> mine.stream().anyMatch(m -> m.contains("21.5")));
                }, WAIT, "telemetry from the broker over the application's WebSocket endpoint, to every peer");
                device.close().block(WAIT);
                seen.clear();

                long shutdown = System.nanoTime();
                ctx.close();
                closed = true;
                for (Recorder<LifecycleEvent> r : recorders) {
                    assertThat(r.next(LifecycleEvent.CloseReceived.class, WAIT).code()).isEqualTo(1001);
                }
                Await.until(() -> seen.contains("broker disconnect:telemetry-service"), WAIT, "the broker's DISCONNECT");
                System.out.printf("shutdown: %d sessions drained with 1001, then DISCONNECT; context closed in %d ms%n", PEERS,
                        Duration.ofNanos(System.nanoTime() - shutdown).toMillis());
                // Readiness off first; every session's 1001 while the broker still has the client; then its DISCONNECT.
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

    /** The application: its handler streams the MQTT telemetry to every WebSocket session. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {

        @Bean
        Flux<MqttMessage> telemetryStream(MqttClient telemetry) {
            return telemetry.subscribe("telemetry/#", MqttQos.AT_LEAST_ONCE).share();
        }

        @Bean
        TetherWebSocketHandler feed(Flux<MqttMessage> telemetryStream) {
            return session -> session.send(telemetryStream.map(m -> WebSocketMessage.text(m.payloadAsString())));
        }

        @Bean
        ApplicationListener<AvailabilityChangeEvent<ReadinessState>> readinessRecorder() {
            return e -> seen.add("readiness " + e.getState());
        }
    }

}
