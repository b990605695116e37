package dev.tether.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Recorder;
import dev.tether.testkit.Sockets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client's close handshake against a raw-socket peer that misbehaves on purpose. For each case:
 * the lifecycle events in order, the timer that fired, the time it took, and proof from the peer
 * (it read end-of-stream) and from the kernel (no ESTABLISHED socket on the client's port).
 */
class MisbehavingPeerIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long SLACK_NANOS = Duration.ofMillis(900).toNanos();

    private static ResilientConnection<WebSocketSession> connection(WebSocketClient client, RawPeer peer) {
        return ResilientConnection.builder(client)
                .endpoint(Endpoint.of(peer.uri()))
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .name("misbehaving-" + peer.port())
                .build();
    }

    private static CloseSummary summaryOf(Recorder.Timed<LifecycleEvent.Notice> notice) {
        return (CloseSummary) notice.item().details();
    }

    private static boolean closedNotice(LifecycleEvent.Notice n) {
        return n.kind().equals(WebSocketClient.CLOSED_NOTICE);
    }

    private static void assertTook(long fromNanos, long toNanos, Duration configured) {
        long took = toNanos - fromNanos;
        assertThat(took).as("time from start to close, configured %s", configured)
                .isGreaterThanOrEqualTo(configured.toNanos() - Duration.ofMillis(30).toNanos())
                .isLessThan(configured.toNanos() + SLACK_NANOS);
    }

    @Test
    void peerThatNeverAnswersTheCloseFrameIsClosedByTheCloseHandshakeTimer() throws Exception {
        Duration timeout = Duration.ofMillis(500);
        try (RawPeer peer = new RawPeer(RawPeer.Mode.NEVER_ANSWERS_CLOSE)) {
            WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.disabled())).session(s -> s.closeHandshakeTimeout(timeout)).build();
            ResilientConnection<WebSocketSession> conn = connection(client, peer);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                RawPeer.Conn pc = peer.nextConnection(WAIT);
                int clientPort = pc.clientPort();

                conn.close().subscribe();
                Recorder.Timed<LifecycleEvent.CloseSent> sent = events.nextTimed(LifecycleEvent.CloseSent.class, e -> e.code() == 1000, WAIT);
                Recorder.Timed<LifecycleEvent.Notice> notice = events.nextTimed(LifecycleEvent.Notice.class, MisbehavingPeerIT::closedNotice, WAIT);
                events.next(LifecycleEvent.Disconnected.class, WAIT);
                events.next(LifecycleEvent.Closed.class, WAIT);

                CloseSummary s = summaryOf(notice);
                assertThat(s.timersFired()).containsExactly(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
                assertThat(s.clean()).isFalse();
                assertThat(s.codeSent()).isEqualTo(1000);
                assertThat(s.codeReceived()).isEqualTo(CloseSummary.ABNORMAL);
                assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
                assertThat(s.initiator()).isEqualTo(Initiator.LOCAL_USER);
                assertTook(sent.nanos(), notice.nanos(), timeout);
                assertThat(events.names()).containsSubsequence("CloseRequested", "CloseSent", "Notice", "Disconnected", "Closed");
                assertThat(events.names()).doesNotContain("CloseReceived", "RetryScheduled");

                assertThat(pc.awaitEof(WAIT)).as("peer saw the client's FIN").isTrue();
                assertThat(pc.count(RawPeer.OP_CLOSE)).isEqualTo(1);
                assertThat(Sockets.established(clientPort, peer.port())).isEmpty();
            }
        }
    }

    @Test
    void peerThatAnswersButNeverClosesTcpIsClosedByTheClientAfterTheTcpCloseWait() throws Exception {
        Duration wait = Duration.ofMillis(400);
        try (RawPeer peer = new RawPeer(RawPeer.Mode.ANSWERS_CLOSE_KEEPS_TCP)) {
            WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.disabled())).tcpCloseWait(wait).build();
            ResilientConnection<WebSocketSession> conn = connection(client, peer);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                RawPeer.Conn pc = peer.nextConnection(WAIT);
                int clientPort = pc.clientPort();

                conn.close().subscribe();
                events.next(LifecycleEvent.CloseSent.class, e -> e.code() == 1000, WAIT);
                Recorder.Timed<LifecycleEvent.CloseReceived> received = events.nextTimed(LifecycleEvent.CloseReceived.class, e -> e.code() == 1000, WAIT);
                Recorder.Timed<LifecycleEvent.Notice> notice = events.nextTimed(LifecycleEvent.Notice.class, MisbehavingPeerIT::closedNotice, WAIT);
                events.next(LifecycleEvent.Closed.class, WAIT);

                CloseSummary s = summaryOf(notice);
                assertThat(s.clean()).as("the close handshake itself completed").isTrue();
                assertThat(s.timersFired()).containsExactly(CloseTimer.TCP_CLOSE_WAIT);
                assertThat(s.tcpClosedBy()).as("the server did not close TCP, so the client did").isEqualTo(CloseSummary.Side.LOCAL);
                assertThat(s.codeReceived()).isEqualTo(1000);
                assertTook(received.nanos(), notice.nanos(), wait);
                assertThat(events.names()).containsSubsequence("CloseRequested", "CloseSent", "CloseReceived", "Notice",
                        "Disconnected", "Closed");

                assertThat(pc.awaitEof(WAIT)).isTrue();
                assertThat(Sockets.established(clientPort, peer.port())).isEmpty();
            }
        }
    }

    @Test
    void peerThatClosesTcpWithoutACloseFrameIsReportedAs1006AndReconnected() throws Exception {
        try (RawPeer peer = new RawPeer(RawPeer.Mode.NEVER_ANSWERS_CLOSE)) {
            WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(Heartbeat.disabled())).build();
            ResilientConnection<WebSocketSession> conn = connection(client, peer);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                events.next(LifecycleEvent.Connected.class, WAIT);
                RawPeer.Conn pc = peer.nextConnection(WAIT);
                int clientPort = pc.clientPort();

                long dropped = System.nanoTime();
                pc.dropTcp();
                Recorder.Timed<LifecycleEvent.Notice> notice = events.nextTimed(LifecycleEvent.Notice.class, MisbehavingPeerIT::closedNotice, WAIT);
                LifecycleEvent.Disconnected d = events.next(LifecycleEvent.Disconnected.class, WAIT);
                events.next(LifecycleEvent.RetryScheduled.class, WAIT);
                events.next(LifecycleEvent.Connected.class, WAIT);

                CloseSummary s = summaryOf(notice);
                assertThat(s.clean()).isFalse();
                assertThat(s.codeReceived()).isEqualTo(CloseSummary.ABNORMAL);
                assertThat(s.closeFrameSent()).isFalse();
                assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
                assertThat(s.timersFired()).isEmpty();
                assertThat(d.initiator()).isEqualTo(Initiator.REMOTE_PEER);
                assertThat(d.code()).isEqualTo(1006);
                assertThat(notice.nanos() - dropped).isLessThan(SLACK_NANOS);
                assertThat(events.names()).containsSubsequence("Connected", "Notice", "Disconnected", "RetryScheduled",
                        "Connecting", "Connected");
                assertThat(Sockets.established(clientPort, peer.port())).isEmpty();
                peer.nextConnection(WAIT);
            } finally {
                conn.abort().block(WAIT);
            }
        }
    }

    @Test
    void peerThatStopsAnsweringPingsIsDeclaredDeadByThePongTimeoutAndReconnected() throws Exception {
        Heartbeat hb = Heartbeat.of(Duration.ofMillis(200), Duration.ofMillis(300));
        try (RawPeer peer = new RawPeer(RawPeer.Mode.SILENT)) {
            WebSocketClient client = WebSocketClient.builder().session(s -> s.heartbeat(hb)).build();
            ResilientConnection<WebSocketSession> conn = connection(client, peer);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                Recorder.Timed<LifecycleEvent.Connected> connected = events.nextTimed(LifecycleEvent.Connected.class, WAIT);
                RawPeer.Conn pc = peer.nextConnection(WAIT);
                int clientPort = pc.clientPort();

                events.next(LifecycleEvent.CloseSent.class, e -> e.code() == 1011, WAIT);
                Recorder.Timed<LifecycleEvent.Notice> notice = events.nextTimed(LifecycleEvent.Notice.class, MisbehavingPeerIT::closedNotice, WAIT);
                LifecycleEvent.Disconnected d = events.next(LifecycleEvent.Disconnected.class, WAIT);
                LifecycleEvent.RetryScheduled retry = events.next(LifecycleEvent.RetryScheduled.class, WAIT);

                CloseSummary s = summaryOf(notice);
                assertThat(s.timersFired()).containsExactly(CloseTimer.PONG_TIMEOUT);
                assertThat(s.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
                assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
                assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
                assertThat(d.code()).isEqualTo(1011);
                assertThat(retry.verdict().isRetryable()).isTrue();
                assertTook(connected.nanos(), notice.nanos(), hb.interval().plus(hb.pongTimeout()));

                assertThat(pc.awaitEof(WAIT)).isTrue();
                // The peer was pinged and never answered (how many pings left before the deadline depends on scheduling).
                assertThat(pc.count(RawPeer.OP_PING)).isPositive();
                assertThat(pc.frames).anyMatch(f -> f[0] == RawPeer.OP_CLOSE && f[1] == 1011);
                assertThat(Sockets.established(clientPort, peer.port())).isEmpty();
            } finally {
                conn.abort().block(WAIT);
            }
        }
    }

    @Test
    void peerThatAnswersPingsButSendsNothingElseIsCaughtByTheWatchdog() throws Exception {
        Duration watchdog = Duration.ofMillis(700);
        try (RawPeer peer = new RawPeer(RawPeer.Mode.PONGS_ONLY)) {
            WebSocketClient client = WebSocketClient.builder()
                    .session(s -> s.heartbeat(Heartbeat.of(Duration.ofMillis(100), Duration.ofSeconds(2))))
                    .watchdog(watchdog)
                    .build();
            ResilientConnection<WebSocketSession> conn = connection(client, peer);
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                Recorder.Timed<LifecycleEvent.Connected> connected = events.nextTimed(LifecycleEvent.Connected.class, WAIT);
                WebSocketSession session = conn.currentSession().orElseThrow();
                RawPeer.Conn pc = peer.nextConnection(WAIT);
                int clientPort = pc.clientPort();

                events.next(LifecycleEvent.CloseSent.class, e -> e.code() == 1011, WAIT);
                events.next(LifecycleEvent.CloseReceived.class, e -> e.code() == 1011, WAIT);
                Recorder.Timed<LifecycleEvent.Notice> notice = events.nextTimed(LifecycleEvent.Notice.class, MisbehavingPeerIT::closedNotice, WAIT);
                LifecycleEvent.Disconnected d = events.next(LifecycleEvent.Disconnected.class, WAIT);
                events.next(LifecycleEvent.RetryScheduled.class, WAIT);

                CloseSummary s = summaryOf(notice);
                assertThat(s.timersFired()).containsExactly(CloseTimer.APPLICATION_WATCHDOG);
                assertThat(s.clean()).isTrue();
                assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
                assertThat(d.initiator()).isEqualTo(Initiator.LOCAL_DETECTION);
                assertThat(d.code()).isEqualTo(1011);
                assertThat(session.lastRoundTrip()).as("pings were answered all along").isPresent();
                assertThat(pc.count(RawPeer.OP_PING)).isGreaterThanOrEqualTo(3);
                assertTook(connected.nanos(), notice.nanos(), watchdog);
                assertThat(pc.awaitEof(WAIT)).isTrue();
                assertThat(Sockets.established(clientPort, peer.port())).isEmpty();
                assertThat(List.copyOf(events.names())).containsSubsequence("Connected", "CloseSent", "CloseReceived", "Notice",
                        "Disconnected", "RetryScheduled");
            } finally {
                conn.abort().block(WAIT);
            }
        }
    }

    @Test
    void aServerThatNeverAnswersTheUpgradeFailsTheAttemptAtTheHandshakeTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        try (java.net.ServerSocket mute = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            java.util.concurrent.CountDownLatch eof = new java.util.concurrent.CountDownLatch(1);
            Thread acceptor = new Thread(() -> {
                try (java.net.Socket s = mute.accept()) {
                    while (s.getInputStream().read() >= 0) {
                        // swallow the upgrade request, answer nothing
                    }
                    eof.countDown();
                } catch (java.io.IOException e) {
                    eof.countDown();
                }
            }, "mute-server");
            acceptor.setDaemon(true);
            acceptor.start();
            WebSocketClient client = WebSocketClient.builder().handshakeTimeout(timeout).build();
            ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(client)
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + mute.getLocalPort() + "/ws"))
                    .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(5)).maxDelay(Duration.ofSeconds(5)).build())
                    .build();
            try (Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                Recorder.Timed<LifecycleEvent.Connecting> connecting = events.nextTimed(LifecycleEvent.Connecting.class, WAIT);
                Recorder.Timed<LifecycleEvent.RetryScheduled> retry = events.nextTimed(LifecycleEvent.RetryScheduled.class, WAIT);
                LifecycleEvent.RetryScheduled r = retry.item();
                assertThat(r.cause()).hasMessageContaining("handshakeTimeout");
                assertThat(r.verdict().isRetryable()).isTrue();
                assertTook(connecting.nanos(), retry.nanos(), timeout);
                assertThat(eof.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the client closed the half-open attempt").isTrue();
            } finally {
                conn.close().block(WAIT);
            }
        }
    }
}
