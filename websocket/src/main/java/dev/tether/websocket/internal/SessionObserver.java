package dev.tether.websocket.internal;

import dev.tether.websocket.CloseSummary;

/**
 * Told about the close handshake steps of one session, on its event loop.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public interface SessionObserver {

    /** Does nothing. */
    SessionObserver NONE = new SessionObserver() {
    };

    /**
     * @param code   the code sent (1005 for a frame without one)
     * @param reason the reason sent
     */
    default void closeSent(int code, String reason) {
    }

    /**
     * @param code   the code received (1005 for a frame without one)
     * @param reason the reason received
     */
    default void closeReceived(int code, String reason) {
    }

    /** @param summary how the session ended, once TCP is closed */
    default void closed(CloseSummary summary) {
    }
}
