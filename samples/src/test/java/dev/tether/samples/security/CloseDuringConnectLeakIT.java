package dev.tether.samples.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Endpoint;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.jwt.JwtVerifier;
import dev.tether.mqtt.MqttClient;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.testkit.FaultProxy;
import dev.tether.testkit.Sockets;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Closing while an attempt is stuck in its handshake (the transport is connected, the peer says
 * nothing) must leave no socket behind, for MQTT and WebSocket alike: the kernel is asked.
 */
class CloseDuringConnectLeakIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void mqttCloseDuringAStuckHandshakeLeavesNoSocket() {
        try (JwtBroker broker = JwtBroker.start(JwtVerifier.builder().hmacSecret("x".repeat(32).getBytes(StandardCharsets.UTF_8)).build(), w -> { });
             FaultProxy proxy = FaultProxy.start("127.0.0.1", Integer.parseInt(broker.tcpUri().substring(broker.tcpUri().lastIndexOf(':') + 1)))) {
            proxy.blackhole(true);
            for (int i = 0; i < 40; i++) {
                // close() with CONNECT in flight waits for CONNACK (the broker may hold the Will), bounded by the
                // connackTimeout: kept short here, where the blackholed broker never answers.
                MqttClient c = MqttClient.builder().endpoint("tcp://127.0.0.1:" + proxy.port()).clientId("stuck-" + i)
                        .connackTimeout(Duration.ofMillis(300)).build().start();
                Await.until(() -> proxy.connectionCount() >= 1, WAIT, "the transport connected");
                c.close().block(WAIT);
                assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).as("round " + i + ": no socket left").isTrue();
                Await.until(() -> proxy.connectionCount() == 0, WAIT, "the proxy saw the close");
            }
        }
    }

    @Test
    void webSocketCloseDuringAStuckUpgradeLeavesNoSocket() {
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").handler(s -> s.receive().then()).build();
        server.start().block(WAIT);
        try (FaultProxy proxy = FaultProxy.start("127.0.0.1", server.port())) {
            proxy.blackhole(true);
            for (int i = 0; i < 40; i++) {
                ResilientConnection<WebSocketSession> c = ResilientConnection.builder(WebSocketClient.builder().build())
                        .endpoint(Endpoint.of("ws://127.0.0.1:" + proxy.port() + "/ws")).build().start();
                Await.until(() -> proxy.connectionCount() >= 1, WAIT, "the transport connected");
                c.close().block(WAIT);
                assertThat(Sockets.awaitNoneEstablished(proxy.port(), WAIT)).as("round " + i + ": no socket left").isTrue();
                Await.until(() -> proxy.connectionCount() == 0, WAIT, "the proxy saw the close");
            }
        } finally {
            server.stop().block(WAIT);
        }
    }
}
