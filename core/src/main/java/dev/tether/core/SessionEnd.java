package dev.tether.core;

import org.jspecify.annotations.Nullable;

/**
 * How an established session ended.
 *
 * @param initiator who ended it
 * @param code      the protocol code (close code, DISCONNECT reason code), or -1 for none
 * @param cause     why; null only for a clean close the user asked for
 * @param planned   whether the connector ended the session to open the next one at once (a planned
 *                  reconnect, e.g. to present a fresh token before the old one expires): the engine then
 *                  reconnects without backoff and does not count it as a failure
 */
public record SessionEnd(Initiator initiator, int code, @Nullable Throwable cause, boolean planned) {

    /**
     * An unplanned end.
     *
     * @param initiator who ended it
     * @param code      the protocol code, or -1
     * @param cause     why; null only for a clean close the user asked for
     */
    public SessionEnd(Initiator initiator, int code, @Nullable Throwable cause) {
        this(initiator, code, cause, false);
    }

    /**
     * @param code the protocol code of the clean close that ended the session, or -1
     * @return the end of a session the user closed in order to reconnect at once (a planned reconnect)
     */
    public static SessionEnd planned(int code) {
        return new SessionEnd(Initiator.LOCAL_USER, code, null, true);
    }

    /** @return the end of a session closed cleanly on the user's request */
    public static SessionEnd byUser() {
        return new SessionEnd(Initiator.LOCAL_USER, -1, null);
    }

    /**
     * @param code  the protocol code, or -1
     * @param cause why
     * @return an end caused by the user, with what the protocol reported
     */
    public static SessionEnd byUser(int code, @Nullable Throwable cause) {
        return new SessionEnd(Initiator.LOCAL_USER, code, cause);
    }

    /**
     * @param code  the protocol code, or -1
     * @param cause why
     * @return an end caused by the peer
     */
    public static SessionEnd byPeer(int code, Throwable cause) {
        return new SessionEnd(Initiator.REMOTE_PEER, code, cause);
    }

    /**
     * @param cause what Tether detected (keepalive lost, protocol error)
     * @return an end caused by local failure detection
     */
    public static SessionEnd detected(Throwable cause) {
        return new SessionEnd(Initiator.LOCAL_DETECTION, -1, cause);
    }
}
