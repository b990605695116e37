package dev.tether.mqtt;

import java.time.Duration;
import java.util.Optional;

/**
 * What one established MQTT connection negotiated: the CONNACK as the client understood it.
 * Shown in the {@code Connected} lifecycle event.
 */
public interface MqttSession {

    /**
     * @return the protocol version spoken on this connection: the configured one, or MQTT 3.1.1 when the broker
     *         refused MQTT 5 and the client fell back ({@link MqttClient.Builder#versionFallback(boolean)})
     */
    MqttVersion version();

    /** @return whether the broker resumed an existing session (CONNACK session present) */
    boolean sessionPresent();

    /** @return the client identifier in use (the one sent, or the one the broker assigned) */
    String clientId();

    /** @return the keepalive in effect: the broker's Server Keep Alive if it sent one, else the client's */
    Duration keepAlive();

    /** @return how many QoS 1 and 2 publishes the broker accepts in flight (Receive Maximum; 65535 if unsaid) */
    int receiveMaximum();

    /** @return the highest QoS the broker supports (2 if unsaid) */
    MqttQos maximumQos();

    /** @return whether the broker supports retained messages */
    boolean retainAvailable();

    /** @return the largest packet the broker accepts, if it said */
    Optional<Long> maximumPacketSize();

    /** @return the transport, e.g. {@code tcp}, {@code ssl}, {@code ws}, {@code wss} */
    String transport();

    /**
     * @return whether the broker offers Subscription Identifiers (MQTT 5 CONNACK; true if unsaid, false for
     *         MQTT 3.1.1); when it does, the client routes each PUBLISH by them
     */
    boolean subscriptionIdentifiersAvailable();

    /**
     * @return whether the broker says it supports shared subscriptions (MQTT 5 CONNACK; true if unsaid). MQTT
     *         3.1.1 cannot say: true, and a broker without them refuses the SUBSCRIBE
     */
    boolean sharedSubscriptionsAvailable();
}
