/**
 * OneBot v11 support for {@link dev.tether.websocket.WebSocketServer}: the lifecycle and heartbeat
 * meta events of one chat-bot protocol, as a {@link dev.tether.websocket.LifecycleAnnouncer}.
 *
 * <p>Kept apart from the WebSocket API because it serves one vendor's protocol; other protocols
 * implement {@link dev.tether.websocket.LifecycleAnnouncer} the same way.
 *
 * <p>Everything in this package is non-null unless marked {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.tether.websocket.onebot;

import org.jspecify.annotations.NullMarked;
