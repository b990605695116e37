/**
 * Implementation of the MQTT client: the connector, the per-connection protocol handler, the
 * transports and the state that survives reconnects. Not an API: users must not touch it.
 */
@NullMarked
package dev.tether.mqtt.internal;

import org.jspecify.annotations.NullMarked;
