package dev.tether.websocket.internal;

import dev.tether.core.Initiator;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * The close handshake of one WebSocket session (RFC 6455 section 7), as a state machine without
 * Netty: {@code OPEN -> CLOSE_SENT | CLOSE_RECEIVED -> HANDSHAKE_COMPLETE -> CLOSED}, the codes and
 * reasons exchanged, who started it, who closed TCP, and which timer fired. What it needs from the
 * connection goes through {@link Wire}.
 *
 * <p>Timers: the close-handshake timeout (our close frame is out, the peer's has not come), the
 * linger timeout (the same after a close caused by the peer's input, while its bytes are discarded),
 * and, for a client, the TCP-close wait (the handshake is complete, the server's FIN has not come).
 * They run on the session's Reactor {@link Scheduler} and hop back onto the session's loop, so
 * {@code VirtualTimeScheduler} drives them in tests.
 *
 * <p>Confined to the loop: every method is called on it, and {@link Wire} is called on it.
 */
final class CloseHandshake {

    /** What the state machine asks of the connection. Called on the loop. */
    interface Wire {
        /**
         * Writes a close frame.
         *
         * @param code    a sendable code, or -1 for a close frame without a status code
         * @param reason  the reason (empty with -1)
         * @param written told, on the loop, whether the frame reached the socket
         */
        void writeClose(int code, String reason, WriteDone written);

        /** Inbound bytes from now on are discarded, except the peer's close frame. */
        void discardInbound();

        /** Reading goes on whatever the application's demand: closing needs the peer's frames and FIN. */
        void resumeReading();

        /** Closes TCP. */
        void closeTcp();

        /** The session leaves OPEN: stop the heartbeat and drop a half-assembled message. */
        void closing();
    }

    /** Told whether a close frame reached the socket. */
    interface WriteDone {
        /** @param success whether it was written */
        void done(boolean success);
    }

    private final SessionSettings settings;
    private final Wire wire;
    private volatile SessionObserver observer = SessionObserver.NONE;
    private final Executor loop;
    private final Scheduler scheduler;
    private volatile CloseState state = CloseState.OPEN;
    private int codeSent = CloseSummary.ABNORMAL;
    private String reasonSent = "";
    private int codeReceived = CloseSummary.ABNORMAL;
    private String reasonReceived = "";
    private Initiator initiator = Initiator.REMOTE_PEER;
    private boolean localClosedTcp;
    private final List<CloseTimer> timers = new ArrayList<>();
    private long closingStartedNanos = -1;
    private @Nullable Disposable closeTimer;
    private @Nullable Disposable tcpWaitTimer;
    private boolean finished;
    private boolean lingering;

    /**
     * @param settings timers and side
     * @param wire     the connection
     * @param loop     the session's loop; timers hop onto it
     */
    CloseHandshake(SessionSettings settings, Wire wire, Executor loop) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.wire = Objects.requireNonNull(wire, "wire");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.scheduler = settings.scheduler();
    }

    /** @param observer told about close frames sent and received; set before the session starts */
    void observer(SessionObserver observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /** @return the state (readable from any thread) */
    CloseState state() {
        return state;
    }

    /** @return whether no close frame was sent or received yet */
    boolean isOpen() {
        return state == CloseState.OPEN;
    }

    /** @return whether a close caused by the peer's input is under way (our close frame out, its bytes discarded) */
    boolean lingering() {
        return lingering && !finished;
    }

    /** @return whether TCP is closed and the summary was made */
    boolean finished() {
        return finished;
    }

    /**
     * Starts the close handshake: our close frame, then wait for the peer's, bounded by {@code timeout}.
     * Does nothing unless OPEN.
     *
     * @param code    a sendable code, or -1 for a frame without one
     * @param reason  the reason
     * @param who     who asked
     * @param timeout how long to wait for the peer's close frame
     * @param timer   the name reported when that wait runs out
     */
    void begin(int code, String reason, Initiator who, Duration timeout, CloseTimer timer) {
        if (state != CloseState.OPEN || finished) {
            return;
        }
        initiator = who;
        state = CloseState.CLOSE_SENT;
        markClosingStart();
        wire.closing();
        wire.resumeReading();
        writeClose(code, reason, null);
        // From here only the peer's close frame matters: its other bytes are discarded as they come.
        wire.discardInbound();
        closeTimer = schedule(timeout, () -> {
            if (state == CloseState.CLOSE_SENT && !finished) {
                timers.add(timer);
                closeTcp();
            }
        });
    }

    /**
     * A lingering close: the peer's input made us close (protocol error, message too big, slow consumer).
     * Our close frame goes out, then inbound bytes are read and discarded until the peer's close frame or
     * FIN, bounded by the linger timeout (and the byte budget, see {@link #lingerBudgetExhausted()}); only
     * then is TCP closed, so no unread data turns our close into a reset.
     *
     * @param code   the code
     * @param reason why
     */
    void closeForPeerInput(int code, String reason) {
        if (state == CloseState.OPEN && !finished) {
            lingering = true;
        }
        begin(code, reason, Initiator.LOCAL_DETECTION, settings.lingerTimeout(), CloseTimer.LINGER_TIMEOUT);
    }

    /**
     * The frame decoder found a protocol violation. When the peer has already sent its close frame (an
     * invalid one), nothing more comes from it: our close frame, then TCP closes. Otherwise a lingering close.
     *
     * @param code          the code the violation calls for
     * @param reason        what was wrong
     * @param peerCloseSeen whether the peer's close frame has come in (below the decoder)
     */
    void onProtocolViolation(int code, String reason, boolean peerCloseSeen) {
        if (state != CloseState.OPEN || finished) {
            return; // closing already: inbound is discarded, the timers run
        }
        int sendable = CloseCodes.sendable(code) ? code : 1002;
        String why = CloseCodes.truncateReason(reason);
        if (peerCloseSeen) {
            initiator = Initiator.LOCAL_DETECTION;
            state = CloseState.CLOSE_SENT;
            markClosingStart();
            wire.closing();
            writeClose(sendable, why, ok -> closeTcp());
            return;
        }
        closeForPeerInput(sendable, why);
    }

    /**
     * The peer's close frame.
     *
     * @param rawCode its code, or -1 for a frame without one
     * @param reason  its reason
     */
    void onCloseFrame(int rawCode, String reason) {
        if (codeReceived != CloseSummary.ABNORMAL || finished) {
            return;
        }
        codeReceived = rawCode == -1 ? CloseSummary.NO_STATUS : rawCode;
        reasonReceived = rawCode == -1 ? "" : reason;
        markClosingStart();
        wire.closing();
        observer.closeReceived(codeReceived, reasonReceived);
        switch (state) {
            case OPEN -> {
                initiator = Initiator.REMOTE_PEER;
                state = CloseState.CLOSE_RECEIVED;
                wire.resumeReading();
                // A close frame is always answered, echoing the code (none if the peer sent none); a code
                // that may not be sent (e.g. 5000, 1005 on the wire) is answered with 1002 instead of echoed.
                boolean echo = rawCode == -1 || CloseCodes.sendable(rawCode);
                state = CloseState.HANDSHAKE_COMPLETE;
                if (settings.client()) {
                    writeClose(echo ? rawCode : 1002, echo ? "" : "invalid close code " + rawCode, null);
                    awaitServerFin();
                } else {
                    // The server closes TCP first (RFC 6455 7.1.1), once its reply is out.
                    writeClose(echo ? rawCode : 1002, echo ? "" : "invalid close code " + rawCode, ok -> closeTcp());
                }
            }
            case CLOSE_SENT -> {
                cancel(closeTimer);
                closeTimer = null;
                state = CloseState.HANDSHAKE_COMPLETE;
                if (settings.client()) {
                    awaitServerFin();
                } else {
                    closeTcp();
                }
            }
            default -> { }
        }
    }

    private void awaitServerFin() {
        // The server should close TCP first (RFC 6455 7.1.1); wait for its FIN, but not for ever.
        wire.resumeReading();
        tcpWaitTimer = schedule(settings.tcpCloseWait(), () -> {
            if (!finished) {
                timers.add(CloseTimer.TCP_CLOSE_WAIT);
                closeTcp();
            }
        });
    }

    /**
     * The heartbeat found the peer unresponsive: say 1011 if the socket still takes it, then close TCP at
     * once (a peer that sends nothing leaves nothing unread: no lingering).
     *
     * @param reason why
     */
    void declareDead(String reason) {
        if (state != CloseState.OPEN || finished) {
            return;
        }
        timers.add(CloseTimer.PONG_TIMEOUT);
        initiator = Initiator.LOCAL_DETECTION;
        state = CloseState.CLOSE_SENT;
        markClosingStart();
        wire.closing();
        writeClose(1011, reason, null);
        closeTcp();
    }

    /**
     * The watchdog saw no application message for its period: 1011 and the usual close handshake.
     *
     * @param reason why
     */
    void watchdogFired(String reason) {
        if (state != CloseState.OPEN || finished) {
            return;
        }
        timers.add(CloseTimer.APPLICATION_WATCHDOG);
        begin(1011, reason, Initiator.LOCAL_DETECTION, settings.closeHandshakeTimeout(), CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
    }

    /**
     * A close frame written from above (Reactor Netty closing on its own): it becomes our handshake,
     * sent once.
     *
     * @param code   its code (-1 for none)
     * @param reason its reason
     */
    void closeFrameFromAbove(int code, String reason) {
        if (state != CloseState.OPEN) {
            return;
        }
        boolean ok = CloseCodes.sendable(code) && reason.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 123;
        begin(ok ? code : -1, ok ? reason : "", Initiator.LOCAL_USER, settings.closeHandshakeTimeout(),
                CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
    }

    /**
     * Closes TCP at once.
     *
     * @param who   who asked
     * @param timer the timer that ran out, or null
     */
    void abort(Initiator who, @Nullable CloseTimer timer) {
        if (finished) {
            return;
        }
        if (state == CloseState.OPEN) {
            initiator = who;
        }
        if (timer != null) {
            timers.add(timer);
        }
        markClosingStart();
        closeTcp();
    }

    /** The linger byte budget ran out while discarding: close TCP now. */
    void lingerBudgetExhausted() {
        if (finished || state == CloseState.OPEN) {
            return;
        }
        timers.add(CloseTimer.LINGER_BYTES);
        closeTcp();
    }

    /**
     * TCP is being closed by something other than this state machine.
     *
     * @param local whether we close it (Reactor Netty disposing, a decoder nearer the network), rather than
     *              the peer (its TLS close_notify, which Reactor Netty answers by closing)
     */
    void closedElsewhere(boolean local) {
        if (!local) {
            return;
        }
        if (state == CloseState.OPEN) {
            initiator = Initiator.LOCAL_USER;
            markClosingStart();
        }
        localClosedTcp = true;
    }

    /**
     * A handler nearer the network closed on a protocol violation and may have sent a close frame of
     * its own (only when the frame decoder could not be replaced).
     *
     * @param code   the code it sent, or -1 when it sent none
     * @param reason its reason
     */
    void closedByDecoder(int code, String reason) {
        if (state == CloseState.OPEN) {
            initiator = Initiator.LOCAL_DETECTION;
            state = CloseState.CLOSE_SENT;
            markClosingStart();
            wire.closing();
        }
        if (code >= 0 && codeSent == CloseSummary.ABNORMAL) {
            codeSent = code;
            reasonSent = reason;
            observer.closeSent(code, reason);
        }
        localClosedTcp = true;
    }

    /** An error we cannot recover from on this connection: close TCP. */
    void failed() {
        if (state == CloseState.OPEN) {
            initiator = Initiator.LOCAL_DETECTION;
        }
        closeTcp();
    }

    /**
     * TCP is closed: the end.
     *
     * @return the summary, or null when already finished
     */
    @Nullable CloseSummary finish() {
        if (finished) {
            return null;
        }
        finished = true;
        state = CloseState.CLOSED;
        cancel(closeTimer);
        cancel(tcpWaitTimer);
        boolean clean = codeSent != CloseSummary.ABNORMAL && codeReceived != CloseSummary.ABNORMAL;
        Duration took = closingStartedNanos < 0 ? Duration.ZERO : Duration.ofNanos(Math.max(0, nanos() - closingStartedNanos));
        return new CloseSummary(clean, initiator, codeSent, reasonSent, codeReceived, reasonReceived,
                localClosedTcp ? CloseSummary.Side.LOCAL : CloseSummary.Side.PEER, timers, took);
    }

    private void writeClose(int code, String reason, @Nullable WriteDone then) {
        int recorded = code < 0 ? CloseSummary.NO_STATUS : code;
        String recordedReason = code < 0 ? "" : reason;
        wire.writeClose(code, recordedReason, ok -> {
            if (ok && codeSent == CloseSummary.ABNORMAL) {
                codeSent = recorded;
                reasonSent = recordedReason;
                observer.closeSent(recorded, recordedReason);
            }
            if (then != null) {
                then.done(ok);
            }
        });
    }

    private void closeTcp() {
        if (finished) {
            return;
        }
        if (!localClosedTcp) {
            localClosedTcp = true;
            wire.closeTcp();
        }
    }

    private void markClosingStart() {
        if (closingStartedNanos < 0) {
            closingStartedNanos = nanos();
        }
    }

    private Disposable schedule(Duration delay, Runnable task) {
        return scheduler.schedule(() -> loop.execute(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private long nanos() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }
}
