package dev.tether.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * The service end to end: it connects through Tether with a JWT, reports UP, streams the lifecycle
 * and the telemetry as Server-Sent Events and over its WebSocket endpoint, and on shutdown drains
 * the WebSocket sessions with 1001.
 */
class TelemetryServiceIT {

    private static final String SECRET = "service-test-secret-of-at-least-32-bytes";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void serviceStreamsTelemetryAndDrainsWebSocketsOnShutdown() {
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(TelemetryServiceApplication.class)
                .properties("server.port=0", "server.address=127.0.0.1",
                        "tether.mqtt.clients.telemetry.jwt.secret=" + SECRET)
                .run();
        boolean closed = false;
        try {
            int httpPort = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
            WebClient http = WebClient.create("http://127.0.0.1:" + httpPort);

            // The lifecycle as SSE: the current state first, which becomes Connected.
            StepVerifier.create(http.get().uri("/lifecycle").retrieve()
                            .bodyToFlux(new ParameterizedTypeReference<ServerSentEvent<String>>() { })
                            .filter(e -> "connected".equals(e.event())).take(1))
                    .expectNextCount(1).expectComplete().verify(WAIT);

            String health = http.get().uri("/actuator/health").retrieve().bodyToMono(String.class).block(WAIT);
            // The starter's contributor: one component per connection, UP while connected.
            assertThat(health).contains("\"tether\":{").containsPattern(
                    "\"telemetry\":\\{\"details\":\\{[^}]*\"state\":\"CONNECTED\"[^}]*\\},\"status\":\"UP\"");
            // Resilience4j's own endpoint lists the connection's Retry (its module's registry, filled by the starter).
            assertThat(http.get().uri("/actuator/retries").retrieve().bodyToMono(String.class).block(WAIT))
                    .contains("\"telemetry\"");

            // A WebSocket client of the service's Tether endpoint, on Spring's port.
            assertThat(ctx.getBean(WebSocketServer.class).isHosted()).isTrue();
            ResilientConnection<WebSocketSession> wsClient = ResilientConnection.builder(WebSocketClient.builder().build())
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + httpPort + "/ws/telemetry")).build();
            List<String> overWebSocket = new CopyOnWriteArrayList<>();
            Disposable wsMessages = wsClient.perSession(WebSocketSession::receive).subscribe(m -> overWebSocket.add(m.text()));
            try (Recorder<LifecycleEvent> wsEvents = Recorder.lifecycle(wsClient.lifecycle())) {
                wsClient.start();
                wsEvents.next(LifecycleEvent.Connected.class, WAIT);

                // Telemetry published by an independent device reaches SSE and WebSocket consumers.
                JwtBroker broker = ctx.getBean(TelemetryConfiguration.EmbeddedBrokerHolder.class).broker();
                CredentialsProvider tokens = JwtCredentialsProvider.builder()
                        .selfSigned(JwtSigner.builder().hs256(SECRET.getBytes(StandardCharsets.UTF_8)).subject("device-1").build())
                        .mapping(TokenMapping.password("device-1")).build();
                MqttClient device = MqttClient.builder().endpoint(broker.tcpUri()).clientId("device-1").credentials(tokens).build().start();
                StepVerifier.create(http.get().uri("/telemetry").retrieve()
                                .bodyToFlux(new ParameterizedTypeReference<ServerSentEvent<String>>() { })
                                .doOnSubscribe(s -> device.publish(MqttMessage.of("telemetry/device-1", "21.5", MqttQos.AT_LEAST_ONCE))
                                        .delaySubscription(Duration.ofMillis(300)).subscribe())
                                .take(1))
                        .assertNext(e -> assertThat(e.data()).contains("telemetry/device-1").contains("21.5"))
                        .expectComplete().verify(WAIT);
                dev.tether.core.testing.Await.until(() -> overWebSocket.stream().anyMatch(s -> s.contains("21.5")), WAIT,
                        "telemetry over the service's WebSocket endpoint");
                device.close().block(WAIT);

                // Shutdown: Spring's graceful phase drains the WebSocket sessions with 1001.
                ctx.close();
                closed = true;
                LifecycleEvent.CloseReceived goodbye = wsEvents.next(LifecycleEvent.CloseReceived.class, WAIT);
                assertThat(goodbye.code()).isEqualTo(1001);
                assertThat(dev.tether.testkit.Sockets.awaitNoneEstablished(httpPort, WAIT)).isTrue();
            } finally {
                wsMessages.dispose();
                wsClient.abort().block(WAIT);
            }
        } finally {
            if (!closed) {
                ctx.close();
            }
        }
    }
}
