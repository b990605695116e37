package dev.tether.spring.boot.internal;

import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import java.util.List;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A connection the starter built: what the lifecycle, health and meters need.
 *
 * @param name       the key (and bean name)
 * @param kind       {@code mqtt} or {@code websocket}
 * @param connection the resilient connection
 * @param endpoints  its endpoints as configured
 * @param mqtt       the MQTT client, for an MQTT connection
 * @param start      starts it
 * @param close      closes it gracefully (lazy)
 */
public record ManagedConnection(String name, String kind, ResilientConnection<?> connection, List<String> endpoints,
                                @Nullable MqttClient mqtt, Runnable start, Supplier<Mono<Void>> close) {
}
