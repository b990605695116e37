/**
 * A Spring Boot WebFlux microservice on the Tether starter: MQTT telemetry through a resilient client with a
 * JWT source, the connection lifecycle as Server-Sent Events, and a Tether WebSocket endpoint, all configured in
 * {@code application.yml}; the starter adds the health contributor, the meters and the shutdown order (the
 * WebSocket sessions drained with 1001 before the MQTT client disconnects).
 */
@NullMarked
package dev.tether.samples.spring;

import org.jspecify.annotations.NullMarked;
