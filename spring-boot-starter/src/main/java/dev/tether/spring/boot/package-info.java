/**
 * Tether in a Spring Boot application: named MQTT clients ({@code tether.mqtt.clients.<name>.*}), a WebSocket
 * server ({@code tether.websocket.server.*}) whose handler is the application's {@link
 * dev.tether.spring.boot.TetherWebSocketHandler} bean, and named WebSocket clients ({@code
 * tether.websocket.clients.<name>.*}), each a bean named after its key, started with the context and closed in
 * order on shutdown; one health contributor per connection and Tether's meters when the application has a
 * {@code MeterRegistry}. {@link dev.tether.spring.boot.TetherProperties} lists every property.
 */
@NullMarked
package dev.tether.spring.boot;

import org.jspecify.annotations.NullMarked;
