package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.Initiator;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.Sockets;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.CloseTimer;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSession;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fault proxy's remaining faults, each against a third-party peer: a FIN from the network,
 * a thin pipe, and a middlebox that swallows WebSocket close frames.
 */
@ExtendWith(PeerLogs.class)
class FaultInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ReconnectPolicy FAST = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(500)).build();

    @BeforeEach
    void clear() {
        PeerLogs.clear();
    }

    @Test
    void finFromTheNetworkAndAThinPipeAgainstMosquitto() {
        try (Mosquitto mosquitto = Mosquitto.start("u", "p"); FaultProxy proxy = FaultProxy.start("127.0.0.1", mosquitto.tcpPort())) {
            PeerLogs.register("mosquitto", mosquitto::log);
            CredentialsProvider creds = CredentialsProvider.fixed(Credentials.of("u", "p"));
            MqttClient c = MqttClient.builder().endpoint("tcp://127.0.0.1:" + proxy.port()).clientId("thin").credentials(creds).reconnect(FAST).build();
            try (NodePeer observer = NodePeer.start("mqtt-observer.js", "mqtt://127.0.0.1:" + mosquitto.tcpPort(), "thin/#",
                    "--username", "u", "--password", "p"); Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
                PeerLogs.register("mqtt.js observer", observer::output);
                observer.await(WAIT, "\"event\":\"ready\"");
                c.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);
                proxy.closeAll();
                assertThat(rec.next(LifecycleEvent.Disconnected.class, WAIT).initiator()).isEqualTo(Initiator.REMOTE_PEER);
                rec.next(LifecycleEvent.Connected.class, WAIT);
                // 64 KiB through a 32 KiB/s pipe: slow, and whole.
                proxy.bandwidth(32 * 1024);
                byte[] big = new byte[64 * 1024];
                Arrays.fill(big, (byte) 'x');
                c.publish("thin/big", big, MqttQos.AT_LEAST_ONCE).block(WAIT);
                String line = observer.await(WAIT, "\"topic\":\"thin/big\"");
                assertThat(line).contains("\"payload\":\"xxxxxxxx");
                assertThat(line.length()).isGreaterThan(64 * 1024);
                c.close().block(WAIT);
            }
        }
    }

    @Test
    void swallowedCloseFrameOverMqttWebSocketStillEndsWithTheSocketClosed() {
        try (Mosquitto mosquitto = Mosquitto.start("u", "p"); FaultProxy proxy = FaultProxy.start("127.0.0.1", mosquitto.wsPort())) {
            PeerLogs.register("mosquitto", mosquitto::log);
            MqttClient c = MqttClient.builder().endpoint("ws://127.0.0.1:" + proxy.port() + "/mqtt").clientId("swallowed")
                    .credentials(CredentialsProvider.fixed(Credentials.of("u", "p"))).transportCloseTimeout(Duration.ofMillis(500)).build();
            try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(c.lifecycle())) {
                c.start();
                rec.next(LifecycleEvent.Connected.class, WAIT);
                proxy.swallowWebSocketClose(true);
                c.close().block(WAIT);
                assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).as("ss: %s", Sockets.describe(proxy.port())).isTrue();
                assertThat(rec.names()).contains("CloseSent", "Disconnected", "Closed");
            }
        }
    }

    @Test
    void swallowedCloseFrameToAWsServerFiresTheCloseHandshakeTimer() {
        try (NodePeer server = NodePeer.start("ws-server.js", "normal")) {
            PeerLogs.register("ws server", server::output);
            int port = NodePeer.intField(server.await(WAIT, "\"event\":\"ready\""), "port");
            try (FaultProxy proxy = FaultProxy.start("127.0.0.1", port)) {
                ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder()
                                .session(s -> s.closeHandshakeTimeout(Duration.ofMillis(700))).build())
                        .endpoint(Endpoint.of("ws://127.0.0.1:" + proxy.port() + "/")).build();
                conn.start();
                WebSocketSession session = conn.awaitConnected(WAIT).block();
                proxy.swallowWebSocketClose(true);
                conn.close().block(WAIT);
                CloseSummary s = session.closed().block(WAIT);
                assertThat(s.timerFired(CloseTimer.CLOSE_HANDSHAKE_TIMEOUT)).as(String.valueOf(s)).isTrue();
                assertThat(s.closingTook()).isBetween(Duration.ofMillis(700), Duration.ofMillis(1700));
                assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).isTrue();
                Await.until(() -> server.count("\"event\":\"tcp-closed\"") == 1, WAIT, "the ws server saw TCP close");
            }
        }
    }
}
