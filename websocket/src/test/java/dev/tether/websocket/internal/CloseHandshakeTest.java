package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Initiator;
import dev.tether.websocket.CloseState;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The close-handshake state machine on its own, without Netty: a recording {@link CloseHandshake.Wire}
 * stands in for the connection (it is our side's plumbing, not the peer), and timers run in virtual time.
 */
class CloseHandshakeTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> wire = new ArrayList<>();
    private final List<CloseHandshake.WriteDone> pendingWrites = new ArrayList<>();
    private final List<String> observed = new ArrayList<>();
    private boolean completeWritesAtOnce = true;

    @AfterEach
    void dispose() {
        time.dispose();
    }

    private CloseHandshake handshake(boolean client) {
        SessionSettings settings = new SessionSettings(client, Duration.ofSeconds(3), Duration.ofSeconds(1), Heartbeat.disabled(),
                null, 1024, 4096, 16, time, Long.MAX_VALUE, Duration.ofSeconds(2), 1 << 20);
        CloseHandshake h = new CloseHandshake(settings, new CloseHandshake.Wire() {
            @Override
            public void writeClose(int code, String reason, CloseHandshake.WriteDone written) {
                wire.add("close " + code + (reason.isEmpty() ? "" : " " + reason));
                if (completeWritesAtOnce) {
                    written.done(true);
                } else {
                    pendingWrites.add(written);
                }
            }

            @Override
            public void discardInbound() {
                wire.add("discard");
            }

            @Override
            public void resumeReading() {
                wire.add("read");
            }

            @Override
            public void closeTcp() {
                wire.add("tcp closed");
            }

            @Override
            public void closing() {
                wire.add("closing");
            }
        }, Runnable::run);
        h.observer(new SessionObserver() {
            @Override
            public void closeSent(int code, String reason) {
                observed.add("sent " + code);
            }

            @Override
            public void closeReceived(int code, String reason) {
                observed.add("received " + code);
            }
        });
        return h;
    }

    @Test
    void ourCloseWaitsForThePeersFrameThenTheClientWaitsForTheServersFin() {
        CloseHandshake h = handshake(true);
        h.begin(1000, "bye", Initiator.LOCAL_USER, Duration.ofSeconds(3), CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
        assertThat(h.state()).isEqualTo(CloseState.CLOSE_SENT);
        assertThat(wire).containsExactly("closing", "read", "close 1000 bye", "discard");
        time.advanceTimeBy(Duration.ofSeconds(2));
        h.onCloseFrame(1000, "");
        assertThat(h.state()).isEqualTo(CloseState.HANDSHAKE_COMPLETE);
        time.advanceTimeBy(Duration.ofMillis(999));
        assertThat(wire).doesNotContain("tcp closed");
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(wire).endsWith("tcp closed");
        CloseSummary s = h.finish();
        assertThat(s.clean()).isTrue();
        assertThat(s.timersFired()).containsExactly(CloseTimer.TCP_CLOSE_WAIT);
        assertThat(s.closingTook()).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
        assertThat(observed).containsExactly("sent 1000", "received 1000");
        assertThat(h.finish()).as("finished once").isNull();
    }

    @Test
    void theServerAnswersAPeersCloseAndClosesTcpOnceTheAnswerIsOut() {
        completeWritesAtOnce = false;
        CloseHandshake h = handshake(false);
        h.onCloseFrame(1001, "going");
        assertThat(wire).contains("close 1001").doesNotContain("tcp closed");
        pendingWrites.get(0).done(true);
        assertThat(wire).endsWith("tcp closed");
        CloseSummary s = h.finish();
        assertThat(s.initiator()).isEqualTo(Initiator.REMOTE_PEER);
        assertThat(s.codeSent()).isEqualTo(1001);
        assertThat(s.codeReceived()).isEqualTo(1001);
    }

    @Test
    void aCodeThatMayNotBeSentIsAnsweredWith1002AndAFrameWithoutCodeWithoutCode() {
        CloseHandshake h = handshake(false);
        h.onCloseFrame(5000, "");
        assertThat(wire).contains("close 1002 invalid close code 5000");
        CloseHandshake empty = handshake(false);
        wire.clear();
        empty.onCloseFrame(-1, "");
        assertThat(wire).contains("close -1");
        assertThat(empty.finish().codeSent()).isEqualTo(CloseSummary.NO_STATUS);
    }

    @Test
    void aCloseCausedByThePeersInputLingersWithItsOwnTimer() {
        CloseHandshake h = handshake(false);
        h.closeForPeerInput(1009, "too big");
        assertThat(wire).containsExactly("closing", "read", "close 1009 too big", "discard");
        time.advanceTimeBy(Duration.ofMillis(1999));
        assertThat(wire).doesNotContain("tcp closed");
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(wire).endsWith("tcp closed");
        CloseSummary s = h.finish();
        assertThat(s.timersFired()).containsExactly(CloseTimer.LINGER_TIMEOUT);
        assertThat(s.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
        assertThat(s.clean()).isFalse();
    }

    @Test
    void theLingerBudgetClosesAtOnceButOnlyWhileClosing() {
        CloseHandshake h = handshake(false);
        h.lingerBudgetExhausted();
        assertThat(wire).as("an open session has no budget to exhaust").isEmpty();
        h.closeForPeerInput(1002, "");
        h.lingerBudgetExhausted();
        assertThat(wire).endsWith("tcp closed");
        assertThat(h.finish().timersFired()).containsExactly(CloseTimer.LINGER_BYTES);
    }

    @Test
    void aViolationAfterThePeersCloseFrameClosesOnceOurFrameIsOut() {
        completeWritesAtOnce = false;
        CloseHandshake h = handshake(false);
        h.onProtocolViolation(1002, "x".repeat(200), true);
        assertThat(wire).hasSize(2).doesNotContain("discard", "tcp closed");
        assertThat(wire.get(1)).startsWith("close 1002 ").hasSizeLessThanOrEqualTo("close 1002 ".length() + 123);
        pendingWrites.get(0).done(true);
        assertThat(wire).endsWith("tcp closed");
    }

    @Test
    void aMissedPongClosesAtOnceAndAFailedWriteSendsNoCode() {
        completeWritesAtOnce = false;
        CloseHandshake h = handshake(true);
        h.declareDead("no pong");
        assertThat(wire).endsWith("close 1011 no pong", "tcp closed");
        pendingWrites.get(0).done(false);
        CloseSummary s = h.finish();
        assertThat(s.codeSent()).as("the frame never reached the socket").isEqualTo(CloseSummary.ABNORMAL);
        assertThat(s.timersFired()).containsExactly(CloseTimer.PONG_TIMEOUT);
    }

    @Test
    void aCloseFrameFromAboveWithAnUnsendableCodeBecomesAFrameWithoutCodeAndIsSentOnce() {
        CloseHandshake h = handshake(false);
        h.closeFrameFromAbove(1006, "");
        h.closeFrameFromAbove(1000, "");
        assertThat(wire.stream().filter(w -> w.startsWith("close"))).containsExactly("close -1");
        assertThat(h.finish().initiator()).isEqualTo(Initiator.LOCAL_USER);
    }

    @Test
    void aCloseFromAboveIsOursAndThePeersTlsCloseIsTheirs() {
        CloseHandshake mine = handshake(false);
        mine.closedElsewhere(true);
        assertThat(mine.finish().tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
        CloseHandshake theirs = handshake(false);
        theirs.closedElsewhere(false);
        assertThat(theirs.finish().tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
    }
}
