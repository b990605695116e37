package dev.tether.websocket;

/**
 * A snapshot of what a {@link WebSocketServer} holds against its limits.
 *
 * @param sessions          open sessions
 * @param admitted          sessions plus admitted upgrades in progress (counted against {@code maxSessions})
 * @param pendingHandshakes TCP connections not yet upgraded (counted against {@code maxPendingHandshakes})
 * @param addresses         remote addresses holding an admitted connection
 * @param refused           upgrades and connections refused or closed by a limit or the authenticator so far
 */
public record ServerStats(int sessions, int admitted, int pendingHandshakes, int addresses, int refused) {
}
