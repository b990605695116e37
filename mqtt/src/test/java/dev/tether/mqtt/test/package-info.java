/**
 * Test fixtures: embedded brokers (HiveMQ CE, Moquette) with WebSocket listeners and refusable
 * credentials, a fault-injecting TCP proxy, a scriptable fake broker, and helpers.
 */
@NullMarked
package dev.tether.mqtt.test;

import org.jspecify.annotations.NullMarked;
