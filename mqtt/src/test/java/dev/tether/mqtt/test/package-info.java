/**
 * Test fixtures: embedded brokers (HiveMQ CE, Moquette) with WebSocket listeners and refusable
 * credentials, scriptable fake brokers (TCP and WebSocket), and helpers. The fault-injecting TCP proxy
 * is core's shared {@code dev.tether.core.testing.FaultProxy}.
 */
@NullMarked
package dev.tether.mqtt.test;

import org.jspecify.annotations.NullMarked;
