/**
 * The WebSocket transport pieces that more than one connector needs: the opening handshake's query,
 * {@code Retry-After}, HTTP status verdicts and TLS failure text. Not an API: users must not depend on
 * these types; Tether's own modules (the MQTT connector's WebSocket transport) may.
 */
@NullMarked
package dev.tether.websocket.internal.transport;

import org.jspecify.annotations.NullMarked;
