package dev.tether.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.jwt.JwtVerifier;
import dev.tether.samples.broker.JwtBroker;
import dev.tether.websocket.WebSocketServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probes against real peers: the embedded JWT broker and a Tether WebSocket server. */
class ProbeCommandsTest {

    private static final String SECRET = "a-test-secret-of-at-least-32-bytes-long";

    @Test
    void probeMqttReportsConnackAndEveryDisconnectMode(@TempDir Path dir) throws Exception {
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET, StandardCharsets.UTF_8);
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        try (JwtBroker broker = JwtBroker.start(verifier, why -> { })) {
            TetherCommandTest.Result ok = TetherCommandTest.run("probe", "mqtt", broker.tcpUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s", "--json");
            assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
            assertThat(ok.out()).contains("\"transport\":\"tcp\"", "\"mqtt_version\":\"5\"", "\"connack\":{\"code\":0,\"verdict\":\"accepted\"}",
                    "\"connect_ms\":");
            assertThat(ok.out()).containsPattern("\"abort\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":true,\"will_latency_ms\":\\d+")
                    .containsPattern("\"graceful\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":false,\"will_latency_ms\":null")
                    .containsPattern("\"graceful_with_will\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":true");

            // Over WebSocket as well.
            TetherCommandTest.Result ws = TetherCommandTest.run("probe", "mqtt", broker.wsUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s", "--json");
            assertThat(ws.code()).as(ws.out() + ws.err()).isZero();
            assertThat(ws.out()).contains("\"transport\":\"websocket\"");

            // A wrong password: the CONNACK code and the verdict say what to do.
            TetherCommandTest.Result refused = TetherCommandTest.run("probe", "mqtt", broker.tcpUri(),
                    "--username", "x", "--password", "not-a-jwt", "--json");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.out()).containsPattern("\"connack\":\\{\"code\":(134|135|4|5),\"verdict\":\"refresh_credentials_then_retry\"\\}")
                    .doesNotContain("not-a-jwt");
        }
    }

    @Test
    void probeWsReportsACleanCloseHandshake() {
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .handler(s -> s.send(s.receive())).build();
        server.start().block(Duration.ofSeconds(10));
        try {
            TetherCommandTest.Result r = TetherCommandTest.run("probe", "ws", "ws://127.0.0.1:" + server.port() + "/ws", "--json");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("\"handshake_ms\":", "\"ping_rtt_ms\":",
                    "\"close\":{\"code_sent\":1000,\"code_received\":1000,", "\"timer_fired\":\"none\",\"tcp_closed_by\":\"server\",\"clean\":true");
        } finally {
            server.stop().block(Duration.ofSeconds(10));
        }
    }
}
