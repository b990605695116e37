/**
 * Tether MQTT: a reactive MQTT 3.1.1 and 5 client over TCP, TLS, WebSocket and WSS that keeps its
 * connection alive through the core engine.
 *
 * <p>Start with {@link dev.tether.mqtt.MqttClient#builder()}. Publishing returns a {@code Mono}
 * completing on the acknowledgement the QoS asks for, subscribing returns a {@code Flux} that
 * survives reconnects, and every connection step appears on
 * {@link dev.tether.mqtt.MqttClient#lifecycle()}. CONNACK refusals are classified by
 * {@link dev.tether.mqtt.MqttVerdicts}.
 *
 * <p>Everything in this package is non-null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.tether.mqtt;

import org.jspecify.annotations.NullMarked;
