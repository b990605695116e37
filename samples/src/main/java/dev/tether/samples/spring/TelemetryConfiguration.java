package dev.tether.samples.spring;

import dev.tether.core.ConnectionOperators;
import dev.tether.core.ReconnectPolicy;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.samples.LifecycleJson;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Wires Tether into the service: the MQTT client and its JWT source, the SSE routes, the health
 * indicator, and the WebSocket endpoint with its Spring lifecycle.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TelemetryProperties.class)
public class TelemetryConfiguration {

    private static final Logger log = LoggerFactory.getLogger(TelemetryConfiguration.class);

    /**
     * The HS256 secret: configured, or generated for the embedded broker.
     *
     * @param props the settings
     * @return the secret bytes
     */
    @Bean
    TokenSecret tokenSecret(TelemetryProperties props) {
        if (props.jwtSecret() != null) {
            byte[] s = props.jwtSecret().getBytes(StandardCharsets.UTF_8);
            if (s.length < 32) {
                throw new IllegalArgumentException("tether.jwt-secret must be at least 32 bytes for HS256, but has " + s.length);
            }
            return new TokenSecret(s);
        }
        if (!"embedded".equals(props.brokerUri())) {
            throw new IllegalArgumentException("tether.jwt-secret is required with an external broker (tether.mqtt-uri="
                    + props.brokerUri() + ")");
        }
        byte[] s = new byte[32];
        new SecureRandom().nextBytes(s);
        return new TokenSecret(Base64.getEncoder().encodeToString(s).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param props  the settings
     * @param secret the token secret
     * @return the embedded broker, only when no broker URI is configured
     */
    @Bean(destroyMethod = "close")
    EmbeddedBrokerHolder embeddedBroker(TelemetryProperties props, TokenSecret secret) {
        if (!"embedded".equals(props.brokerUri())) {
            return new EmbeddedBrokerHolder(null);
        }
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(secret.bytes()).build();
        JwtBroker broker = JwtBroker.start(verifier, why -> log.info("{}", why));
        log.info("embedded MQTT broker (JWT authentication) on {}", broker.tcpUri());
        return new EmbeddedBrokerHolder(broker);
    }

    /**
     * @param props  the settings
     * @param secret the token secret
     * @param broker the embedded broker, if any
     * @return the resilient MQTT client, started and closed with the application
     */
    @Bean
    MqttClient telemetryClient(TelemetryProperties props, TokenSecret secret, EmbeddedBrokerHolder broker) {
        JwtSigner signer = JwtSigner.builder().hs256(secret.bytes()).subject("telemetry-service").lifetime(props.tokenLifetime()).build();
        JwtCredentialsProvider tokens = JwtCredentialsProvider.builder().selfSigned(signer)
                .mapping(TokenMapping.password("telemetry-service")).name("telemetry-tokens").build();
        String uri = broker.broker() != null ? broker.broker().tcpUri() : props.brokerUri();
        return MqttClient.builder().endpoint(uri).clientId("telemetry-service").credentials(tokens)
                .reconnect(ReconnectPolicy.builder().maxDelay(Duration.ofSeconds(10)).build()).name("telemetry").build();
    }

    /**
     * The telemetry, shared by every consumer (SSE and WebSocket): one broker subscription.
     *
     * @param client the MQTT client
     * @param props  the settings
     * @return the hot stream of messages
     */
    @Bean
    TelemetryStream telemetryStream(MqttClient client, TelemetryProperties props) {
        return new TelemetryStream(client.subscribe(props.topicFilter(), MqttQos.AT_LEAST_ONCE).share());
    }

    /**
     * Starts the MQTT client with the application and closes it gracefully (DISCONNECT) on shutdown.
     *
     * @param client the client
     * @return its lifecycle
     */
    @Bean
    SmartLifecycle telemetryClientLifecycle(MqttClient client) {
        return new SmartLifecycle() {
            private volatile boolean running;

            @Override
            public void start() {
                client.start();
                running = true;
            }

            @Override
            public void stop() {
                client.close().block(Duration.ofSeconds(10));
                running = false;
            }

            @Override
            public boolean isRunning() {
                return running;
            }
        };
    }

    /**
     * The Tether WebSocket endpoint: every session receives the telemetry as JSON text.
     *
     * @param props     the settings
     * @param telemetry the shared telemetry stream
     * @return the server, started and drained by {@link WebSocketServerLifecycle}
     */
    @Bean
    WebSocketServer telemetryWebSocketServer(TelemetryProperties props, TelemetryStream telemetry) {
        return WebSocketServer.builder().host("127.0.0.1").port(props.webSocketPort()).path(props.webSocketPath())
                .drainTimeout(props.drain())
                .handler(session -> session.send(telemetry.messages().map(m -> WebSocketMessage.text(toJson(m)))))
                .build();
    }

    /**
     * @param server the WebSocket server
     * @return the Spring lifecycle that starts it and drains it (1001 to every session) on shutdown
     */
    @Bean
    WebSocketServerLifecycle telemetryWebSocketLifecycle(WebSocketServer server) {
        return new WebSocketServerLifecycle(server);
    }

    /**
     * @param client the MQTT client
     * @return the connection's health: UP when connected, DOWN otherwise, with the reason
     */
    @Bean
    ReactiveHealthIndicator tetherHealthIndicator(MqttClient client) {
        return () -> ConnectionOperators.health(client.connection()).next().map(h -> Health
                .status(switch (h.status()) {
                    case UP -> Status.UP;
                    case OUT_OF_SERVICE -> Status.OUT_OF_SERVICE;
                    case STARTING, RECONNECTING -> new Status(h.status().name(), h.detail());
                    case DOWN -> Status.DOWN;
                })
                .withDetail("generation", h.generation())
                .withDetail("since", h.since().toString())
                .withDetail("detail", h.detail())
                .build());
    }

    /**
     * @param client    the MQTT client
     * @param telemetry the shared telemetry stream
     * @return {@code GET /lifecycle} and {@code GET /telemetry} as Server-Sent Events
     */
    @Bean
    RouterFunction<ServerResponse> telemetryRoutes(MqttClient client, TelemetryStream telemetry) {
        return RouterFunctions.route()
                .GET("/lifecycle", req -> ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                        .body(client.lifecycle().onErrorResume(e -> Mono.empty()).map(e -> ServerSentEvent.<Map<String, Object>>builder(LifecycleJson.json(e))
                                .event(LifecycleJson.name(e)).build()), ServerSentEvent.class))
                .GET("/telemetry", req -> ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                        .body(telemetry.messages().map(m -> ServerSentEvent.<Map<String, Object>>builder(toMap(m)).event("message").build()),
                                ServerSentEvent.class))
                .build();
    }

    private static Map<String, Object> toMap(MqttMessage m) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("topic", m.topic());
        o.put("payload", m.payloadAsString());
        o.put("qos", m.qos().value());
        return o;
    }

    private static String toJson(MqttMessage m) {
        return "{\"topic\":\"" + escape(m.topic()) + "\",\"payload\":\"" + escape(m.payloadAsString()) + "\"}";
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /**
     * The HS256 secret, kept out of {@code toString()}.
     *
     * @param bytes the secret
     */
    record TokenSecret(byte[] bytes) {
        @Override
        public String toString() {
            return "TokenSecret{****}";
        }
    }

    /**
     * The embedded broker, or none when an external one is configured.
     *
     * @param broker the broker, or null
     */
    record EmbeddedBrokerHolder(@org.jspecify.annotations.Nullable JwtBroker broker) implements AutoCloseable {
        @Override
        public void close() {
            if (broker != null) {
                broker.close();
            }
        }
    }

    /**
     * The telemetry stream shared by SSE and WebSocket consumers.
     *
     * @param messages hot stream of messages
     */
    record TelemetryStream(Flux<MqttMessage> messages) {
    }
}
