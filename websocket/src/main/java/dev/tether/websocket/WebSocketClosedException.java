package dev.tether.websocket;

import dev.tether.core.ConnectionFailedException;
import dev.tether.websocket.internal.CloseCodes;

/**
 * A WebSocket session ended: the peer closed it, Tether detected it dead, or it was closed without
 * a clean handshake. Carries the full {@link CloseSummary}; its {@link #code()} is the code that
 * decides the reconnect verdict (the peer's close code, or the code we sent on detection).
 */
public final class WebSocketClosedException extends ConnectionFailedException {

    private static final long serialVersionUID = 1L;

    private final transient CloseSummary summary;

    /**
     * @param summary how the session ended
     */
    public WebSocketClosedException(CloseSummary summary) {
        super(message(summary), summary.initiator(), decisiveCode(summary), null, null);
        this.summary = summary;
    }

    /** @return how the session ended */
    public CloseSummary summary() {
        return summary;
    }

    /**
     * @param summary a summary
     * @return the code that decides what to do next: the peer's code when the peer started the close,
     *         otherwise the code we sent (1006 when none was exchanged)
     */
    public static int decisiveCode(CloseSummary summary) {
        if (summary.initiator() == dev.tether.core.Initiator.REMOTE_PEER) {
            return summary.codeReceived();
        }
        return summary.closeFrameSent() ? summary.codeSent() : CloseSummary.ABNORMAL;
    }

    private static String message(CloseSummary s) {
        int code = decisiveCode(s);
        String who = switch (s.initiator()) {
            case REMOTE_PEER -> "the peer closed the WebSocket";
            case LOCAL_DETECTION -> "Tether closed the WebSocket after detecting a failure";
            case LOCAL_USER -> "the WebSocket was closed locally";
        };
        return who + " with " + code + " (" + CloseCodes.describe(code) + ")" + ": " + s;
    }
}
