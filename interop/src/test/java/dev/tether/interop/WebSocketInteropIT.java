package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.testkit.Sockets;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.DrainReport;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The WebSocket scenarios against ws (Node), as a misbehaving server and as a client fleet. */
@ExtendWith(PeerLogs.class)
class WebSocketInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Duration CLOSE_TIMEOUT = Duration.ofMillis(800);
    private static final Duration TCP_CLOSE_WAIT = Duration.ofMillis(400);

    @BeforeEach
    void clearLogs() {
        PeerLogs.clear();
    }

    private CloseSummary closeAgainst(String mode) {
        try (NodePeer server = NodePeer.start("ws-server.js", mode)) {
            PeerLogs.register("ws server (" + mode + ")", server::output);
            int port = NodePeer.intField(server.await(WAIT, "\"event\":\"ready\""), "port");
            ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder()
                            .session(s -> s.closeHandshakeTimeout(CLOSE_TIMEOUT)).tcpCloseWait(TCP_CLOSE_WAIT).build())
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + port + "/")).build();
            conn.start();
            WebSocketSession session = conn.awaitConnected(WAIT).block();
            server.await(WAIT, "\"event\":\"open\"");
            conn.close().block(WAIT);
            CloseSummary summary = session.closed().block(WAIT);
            assertThat(Sockets.awaitNoneEstablished(port, WAIT)).as("the kernel shows no socket left on " + port).isTrue();
            return summary;
        }
    }

    @Test
    void wellBehavedWsServerClosesCleanlyAndClosesTcpFirst() {
        CloseSummary s = closeAgainst("normal");
        assertThat(s.clean()).isTrue();
        assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.PEER);
        assertThat(s.timersFired()).isEmpty();
    }

    @Test
    void wsServerThatNeverAnswersTheCloseFrameFiresTheCloseHandshakeTimer() {
        CloseSummary s = closeAgainst("no-close-reply");
        assertThat(s.timerFired(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT)).isTrue();
        assertThat(s.clean()).isFalse();
        assertThat(s.closingTook()).isBetween(CLOSE_TIMEOUT, CLOSE_TIMEOUT.plusSeconds(1));
        assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
    }

    @Test
    void wsServerThatKeepsTcpOpenIsClosedByTheClientAfterItsWait() {
        CloseSummary s = closeAgainst("keep-tcp-open");
        assertThat(s.timerFired(CloseTimer.TCP_CLOSE_WAIT)).isTrue();
        assertThat(s.closeFrameReceived()).isTrue();
        assertThat(s.tcpClosedBy()).isEqualTo(CloseSummary.Side.LOCAL);
        assertThat(s.closingTook()).isBetween(TCP_CLOSE_WAIT, TCP_CLOSE_WAIT.plusSeconds(1));
    }

    private WebSocketServer server() {
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/onebot")
                .announcer(OneBotAnnouncer.builder(10001).enableDisable(true).build())
                .handler(s -> s.receive().then()).build();
        server.start().block(WAIT);
        return server;
    }

    @Test
    void wsFleetSeesTheDisableEventThen1001OnStop() {
        int clients = 50;
        WebSocketServer server = server();
        try (NodePeer fleet = NodePeer.start("ws-fleet.js", "ws://127.0.0.1:" + server.port() + "/onebot",
                String.valueOf(clients), "30000")) {
            PeerLogs.register("ws fleet", fleet::output);
            fleet.await(WAIT, "\"event\":\"all-open\"");
            Await.until(() -> server.sessions().count() == clients, WAIT, "all sessions registered");
            DrainReport report = server.stop().block(WAIT);
            assertThat(report.closedCleanly()).isEqualTo(clients);
            assertThat(report.aborted()).isZero();
            Await.until(() -> fleet.count("\"event\":\"closed\"") == clients, WAIT, "every ws client closed");
            assertThat(fleet.count("\"event\":\"closed\"", "\"code\":1001", "\"sawDisable\":true"))
                    .as("each ws client saw OneBot 'disable', then close code 1001").isEqualTo(clients);
            assertThat(Sockets.awaitNoneEstablished(server.port(), WAIT)).isTrue();
        }
    }

    @Test
    void wsFleetSees1012OnReloadAndComesBack() {
        int clients = 30;
        WebSocketServer server = server();
        try (NodePeer fleet = NodePeer.start("ws-fleet.js", "ws://127.0.0.1:" + server.port() + "/onebot",
                String.valueOf(clients), "30000", "--reconnect-on-1012")) {
            PeerLogs.register("ws fleet", fleet::output);
            fleet.await(WAIT, "\"event\":\"all-open\"");
            DrainReport report = server.reload().block(WAIT);
            assertThat(report.closedCleanly()).isEqualTo(clients);
            fleet.await(WAIT, "\"event\":\"all-reopened\"");
            assertThat(fleet.count("\"event\":\"closed\"", "\"code\":1012")).isEqualTo(clients);
            Await.until(() -> server.sessions().count() == clients, WAIT, "every ws client back on the reloaded server");
        } finally {
            server.stop().block(WAIT);
        }
    }

    @Test
    void tetherClientAgainstTetherServerThroughReloadKeepsItsLifecycleHonest() {
        WebSocketServer server = server();
        try {
            ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder().build())
                    .endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/onebot")).build();
            try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(conn.lifecycle())) {
                conn.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);
                server.reload().block(WAIT);
                assertThat(rec.next(LifecycleEvent.CloseReceived.class, WAIT).code()).isEqualTo(1012);
                rec.next(LifecycleEvent.Connected.class, WAIT);
                conn.close().block(WAIT);
            }
        } finally {
            server.stop().block(WAIT);
        }
    }
}
