/**
 * Test fixtures: embedded brokers (HiveMQ CE, Moquette) with WebSocket listeners and refusable
 * credentials, scriptable fake brokers (TCP and WebSocket), and helpers. The stream recorder is core's
 * shared {@code dev.tether.core.testing.Recorder}; the fault-injecting TCP proxy and the kernel's view of
 * sockets are {@code dev.tether.testkit.FaultProxy} and {@code dev.tether.testkit.Sockets}.
 */
@NullMarked
package dev.tether.mqtt.test;

import org.jspecify.annotations.NullMarked;
