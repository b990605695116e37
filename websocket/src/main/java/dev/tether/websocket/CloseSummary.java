package dev.tether.websocket;

import dev.tether.core.Initiator;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a WebSocket session ended: what was exchanged, who closed TCP, which timers fired.
 *
 * <p>Codes follow RFC 6455: {@code 1005} means a close frame without a status code, {@code 1006}
 * means no close frame at all. Neither is ever put on the wire.
 *
 * @param clean          whether both close frames were exchanged before TCP closed
 * @param initiator      who started the end: the application, Tether's own detection (heartbeat,
 *                       watchdog, protocol error) or the peer
 * @param codeSent       the code of the close frame we sent, 1005 if it had none, or 1006 if we
 *                       sent no close frame
 * @param reasonSent     the reason we sent, possibly empty
 * @param codeReceived   the code of the peer's close frame, 1005 if it had none, or 1006 if none
 *                       arrived
 * @param reasonReceived the reason received, possibly empty
 * @param tcpClosedBy    which side closed the TCP connection
 * @param timersFired    the timers that fired, in order; empty when none did
 * @param closingTook    from the first close frame (sent or received), or from the detection, to the
 *                       closed socket; zero when TCP simply dropped
 */
public record CloseSummary(boolean clean, Initiator initiator, int codeSent, String reasonSent, int codeReceived,
                           String reasonReceived, Side tcpClosedBy, List<CloseTimer> timersFired,
                           Duration closingTook) {

    /** A code meaning "no status code in the frame" (never sent on the wire). */
    public static final int NO_STATUS = 1005;
    /** A code meaning "no close frame at all" (never sent on the wire). */
    public static final int ABNORMAL = 1006;

    /** Which side of the connection did something. */
    public enum Side {
        /** This process. */
        LOCAL,
        /** The other end. */
        PEER
    }

    /**
     * Copies the timer list and checks for nulls.
     *
     * @param clean          whether both close frames were exchanged
     * @param initiator      who started the end
     * @param codeSent       the code sent, 1005 for none in the frame, 1006 for no frame
     * @param reasonSent     the reason sent
     * @param codeReceived   the code received, 1005 for none in the frame, 1006 for no frame
     * @param reasonReceived the reason received
     * @param tcpClosedBy    which side closed TCP
     * @param timersFired    the timers that fired, in order
     * @param closingTook    how long the closing took
     */
    public CloseSummary {
        Objects.requireNonNull(initiator, "initiator");
        Objects.requireNonNull(reasonSent, "reasonSent");
        Objects.requireNonNull(reasonReceived, "reasonReceived");
        Objects.requireNonNull(tcpClosedBy, "tcpClosedBy");
        timersFired = List.copyOf(timersFired);
        Objects.requireNonNull(closingTook, "closingTook");
    }

    /**
     * @param timer a timer
     * @return whether it fired
     */
    public boolean timerFired(CloseTimer timer) {
        return timersFired.contains(timer);
    }

    /** @return whether we sent a close frame */
    public boolean closeFrameSent() {
        return codeSent != ABNORMAL;
    }

    /** @return whether the peer's close frame arrived */
    public boolean closeFrameReceived() {
        return codeReceived != ABNORMAL;
    }

    @Override
    public String toString() {
        return "CloseSummary{" + (clean ? "clean" : "not clean") + ", initiator=" + initiator
                + ", sent=" + describe(codeSent, reasonSent) + ", received=" + describe(codeReceived, reasonReceived)
                + ", tcpClosedBy=" + tcpClosedBy + ", timersFired=" + timersFired
                + ", closingTook=" + closingTook.toMillis() + " ms}";
    }

    private static String describe(int code, String reason) {
        if (code == ABNORMAL) {
            return "none";
        }
        return reason.isEmpty() ? String.valueOf(code) : code + " '" + reason + "'";
    }
}
