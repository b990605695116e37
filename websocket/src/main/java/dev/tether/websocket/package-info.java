/**
 * A resilient WebSocket client and a draining WebSocket server on Reactor Netty, sharing one
 * observable close handshake.
 *
 * <p>The client is a {@link dev.tether.core.spi.Connector} for the core engine:
 * {@link dev.tether.websocket.WebSocketClient#builder()}. The server is
 * {@link dev.tether.websocket.WebSocketServer#builder()}. Both speak through
 * {@link dev.tether.websocket.WebSocketSession}, whose close handshake is Tether's own state machine
 * (close sent, close received, closed with a {@link dev.tether.websocket.CloseSummary}).
 */
@NullMarked
package dev.tether.websocket;

import org.jspecify.annotations.NullMarked;
