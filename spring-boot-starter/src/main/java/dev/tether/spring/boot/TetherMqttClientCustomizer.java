package dev.tether.spring.boot;

import dev.tether.mqtt.MqttClient;

/**
 * Changes an MQTT client's builder after the properties were applied and before it is built: for what properties
 * cannot say (a credentials source of the application's own, an endpoint known only at run time). Every bean of this
 * type is applied to every client, in {@code @Order}.
 */
@FunctionalInterface
public interface TetherMqttClientCustomizer {

    /**
     * @param name    the client's key in {@code tether.mqtt.clients}
     * @param builder its builder, with the properties applied
     */
    void customize(String name, MqttClient.Builder builder);
}
