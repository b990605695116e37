package dev.tether.spring.boot.internal;

import dev.tether.core.ConnectionMetrics;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds Tether's meters ({@code tether.connection.*}, and {@code tether.mqtt.inbound.*} for MQTT clients) of every
 * connection the starter built, now and later, to the registry Spring Boot hands it.
 */
public final class TetherMeterBinder implements MeterBinder {

    private final TetherConnections connections;

    /**
     * @param connections the connections
     */
    public TetherMeterBinder(TetherConnections connections) {
        this.connections = connections;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        connections.forEach(c -> {
            ConnectionMetrics.bind(c.connection(), registry);
            MqttClient mqtt = c.mqtt();
            if (mqtt != null) {
                MqttMetrics.bind(mqtt, registry);
            }
        });
    }
}
