/**
 * A Spring Boot WebFlux microservice on Tether: MQTT telemetry through a resilient client with a
 * JWT source, the connection lifecycle as Server-Sent Events and as a health indicator, and a
 * Tether WebSocket endpoint drained on shutdown through Spring's {@code SmartLifecycle}.
 */
@NullMarked
package dev.tether.samples.spring;

import org.jspecify.annotations.NullMarked;
