package dev.tether.mqtt;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Objects;

/**
 * Optional Micrometer meters for an {@link MqttClient}'s way in; needs {@code micrometer-core} on the class
 * path. Meters, tagged {@code connection=<name>}, read from {@link MqttClient#inboundState()}:
 * <ul>
 *   <li>{@code tether.mqtt.inbound.unacknowledged} (gauge): received QoS 1 and 2 messages not yet acknowledged</li>
 *   <li>{@code tether.mqtt.inbound.buffered} (gauge): messages waiting in subscribers' buffers</li>
 *   <li>{@code tether.mqtt.inbound.held} (gauge): messages waiting for a matching subscriber</li>
 *   <li>{@code tether.mqtt.inbound.reading.paused} (gauge): 1 while socket reads are paused by full buffers</li>
 *   <li>{@code tether.mqtt.inbound.dropped} (counter): QoS 0 messages dropped</li>
 * </ul>
 * The connection's own meters come from {@link dev.tether.core.ConnectionMetrics#bind}.
 */
public final class MqttMetrics {

    private MqttMetrics() {
    }

    /**
     * Registers the meters; they read the client as long as the registry keeps them.
     *
     * @param client   the client
     * @param registry the meter registry
     */
    public static void bind(MqttClient client, MeterRegistry registry) {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(registry, "registry");
        String name = client.connection().name();
        Gauge.builder("tether.mqtt.inbound.unacknowledged", client, c -> c.inboundState().unacknowledged())
                .tag("connection", name).description("received QoS 1 and 2 messages not yet acknowledged")
                .register(registry);
        Gauge.builder("tether.mqtt.inbound.buffered", client, c -> c.inboundState().buffered())
                .tag("connection", name).description("messages waiting in subscribers' buffers").register(registry);
        Gauge.builder("tether.mqtt.inbound.held", client, c -> c.inboundState().held())
                .tag("connection", name).description("messages waiting for a matching subscriber").register(registry);
        Gauge.builder("tether.mqtt.inbound.reading.paused", client, c -> c.inboundState().readingPaused() ? 1 : 0)
                .tag("connection", name).description("1 while socket reads are paused by full buffers").register(registry);
        FunctionCounter.builder("tether.mqtt.inbound.dropped", client, c -> c.inboundState().droppedQos0())
                .tag("connection", name).description("QoS 0 messages dropped").register(registry);
    }
}
