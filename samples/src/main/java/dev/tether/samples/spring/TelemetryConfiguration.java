package dev.tether.samples.spring;

import dev.tether.jwt.JwtVerifier;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.samples.LifecycleJson;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.spring.boot.TetherMqttClientCustomizer;
import dev.tether.spring.boot.TetherProperties;
import dev.tether.spring.boot.TetherWebSocketHandler;
import dev.tether.websocket.WebSocketMessage;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
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
 * The service's own logic. The MQTT client {@code telemetry}, its JWT source, the WebSocket server, the health
 * contributors, the meters and the shutdown order come from the Tether starter and {@code application.yml}.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TelemetryProperties.class)
public class TelemetryConfiguration {

    private static final Logger log = LoggerFactory.getLogger(TelemetryConfiguration.class);

    /**
     * The demo's embedded broker that checks the client's JWTs, started only when no broker is configured.
     *
     * @param tether the starter's properties: the client's endpoints and JWT secret
     * @return the broker, or none
     */
    @Bean(destroyMethod = "close")
    EmbeddedBrokerHolder embeddedBroker(TetherProperties tether) {
        TetherProperties.MqttClient client = tether.mqtt().clients().get("telemetry");
        if (client == null || !client.endpoints().isEmpty()) {
            return new EmbeddedBrokerHolder(null);
        }
        TetherProperties.Jwt jwt = client.jwt();
        String secret = jwt == null ? null : jwt.secret();
        if (secret == null) {
            throw new IllegalStateException("the embedded broker checks HS256 tokens: set "
                    + "tether.mqtt.clients.telemetry.jwt.secret (./tether service generates one)");
        }
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(secret.getBytes(StandardCharsets.UTF_8)).build();
        JwtBroker broker = JwtBroker.start(verifier, why -> log.info("{}", why));
        log.info("embedded MQTT broker (JWT authentication) on {}", broker.tcpUri());
        return new EmbeddedBrokerHolder(broker);
    }

    /**
     * @param broker the embedded broker, if any
     * @return points the {@code telemetry} client at the embedded broker when no endpoint is configured
     */
    @Bean
    TetherMqttClientCustomizer embeddedBrokerEndpoint(EmbeddedBrokerHolder broker) {
        return (name, builder) -> {
            JwtBroker b = broker.broker();
            if (name.equals("telemetry") && b != null) {
                builder.endpoint(b.tcpUri());
            }
        };
    }

    /**
     * The telemetry, shared by every consumer (SSE and WebSocket): one broker subscription.
     *
     * @param telemetry the MQTT client (the starter's bean {@code telemetry})
     * @param props     the settings
     * @return the hot stream of messages
     */
    @Bean
    TelemetryStream telemetryStream(MqttClient telemetry, TelemetryProperties props) {
        return new TelemetryStream(telemetry.subscribe(props.topicFilter(), MqttQos.AT_LEAST_ONCE).share());
    }

    /**
     * @param telemetry the shared telemetry stream
     * @return the handler of the starter's WebSocket server: every session receives the telemetry as JSON text
     */
    @Bean
    TetherWebSocketHandler telemetryWebSocket(TelemetryStream telemetry) {
        return session -> session.send(telemetry.messages().map(m -> WebSocketMessage.text(toJson(m))));
    }

    /**
     * @param telemetry the MQTT client
     * @param stream    the shared telemetry stream
     * @return {@code GET /lifecycle} and {@code GET /telemetry} as Server-Sent Events
     */
    @Bean
    RouterFunction<ServerResponse> telemetryRoutes(MqttClient telemetry, TelemetryStream stream) {
        return RouterFunctions.route()
                .GET("/lifecycle", req -> ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                        .body(telemetry.lifecycle().onErrorResume(e -> Mono.empty()).map(e -> ServerSentEvent.<Map<String, Object>>builder(LifecycleJson.json(e))
                                .event(LifecycleJson.name(e)).build()), ServerSentEvent.class))
                .GET("/telemetry", req -> ServerResponse.ok().contentType(MediaType.TEXT_EVENT_STREAM)
                        .body(stream.messages().map(m -> ServerSentEvent.<Map<String, Object>>builder(toMap(m)).event("message").build()),
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
     * The embedded broker, or none when an external one is configured.
     *
     * @param broker the broker, or null
     */
    record EmbeddedBrokerHolder(@Nullable JwtBroker broker) implements AutoCloseable {
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
