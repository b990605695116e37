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
class ProbeCommandsIT {

    private static final String SECRET = "a-test-secret-of-at-least-32-bytes-long";

    @Test
    void probeMqttReportsConnackAndEveryDisconnectMode(@TempDir Path dir) throws Exception {
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET, StandardCharsets.UTF_8);
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        try (JwtBroker broker = JwtBroker.start(verifier, why -> { })) {
            TetherCommandIT.Result ok = TetherCommandIT.run("probe", "mqtt", broker.tcpUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s", "--json");
            assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
            assertThat(ok.out()).contains("\"transport\":\"tcp\"", "\"mqtt_version\":\"5\"", "\"connack\":{\"code\":0,\"verdict\":\"accepted\"}",
                    "\"connect_ms\":");
            // What the CONNACK said, the shared subscription delivered once, acknowledgement after acknowledge().
            assertThat(ok.out()).contains("\"session\":{\"receive_maximum\":", "\"subscription_identifiers_available\":true",
                    "\"shared_subscriptions_available\":true");
            assertThat(ok.out()).containsPattern("\"shared_subscription\":\\{\"filter\":\"\\$share/tether-probe-[0-9a-f]+/tether/probe/[0-9a-f]+/shared\","
                    + "\"members\":2,\"suback\":\"granted QoS 1\",\"arrivals\":1,\"result\":\"pass\"");
            assertThat(ok.out()).contains("\"subscribe\":\"after emission to the subscriber under its demand")
                    .containsPattern("\"manual_check\":\"pass\",\"held_ms\":\\d+,\"second_after_ack_ms\":\\d+");
            assertThat(ok.out()).contains("\"as_expected\":true");
            assertThat(ok.out()).containsPattern("\"abort\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":true,\"will_latency_ms\":\\d+")
                    .containsPattern("\"graceful\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":false,\"will_latency_ms\":null")
                    .containsPattern("\"graceful_with_will\":\\{\"transport_closed\":true,\"close_ms\":\\d+,\"will_delivered\":true");

            // Over WebSocket as well.
            TetherCommandIT.Result ws = TetherCommandIT.run("probe", "mqtt", broker.wsUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s", "--json");
            assertThat(ws.code()).as(ws.out() + ws.err()).isZero();
            assertThat(ws.out()).contains("\"transport\":\"websocket\"");
            // The WebSocket close handshake of each disconnect mode, like `probe ws` reports it: a graceful close
            // sends 1000 and gets the broker's answer; an abort sends no close frame.
            assertThat(ws.out()).containsPattern("\"graceful\":\\{[^}]*\"websocket_close\":\\{\"code_sent\":1000,\"code_received\":1000")
                    .containsPattern("\"abort\":\\{[^}]*\"websocket_close\":\\{\"code_sent\":null");

            // The human report says the same in words.
            TetherCommandIT.Result human = TetherCommandIT.run("probe", "mqtt", broker.tcpUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s");
            assertThat(human.code()).as(human.out() + human.err()).isZero();
            assertThat(human.out()).contains("session       receiveMaximum", "subscriptionIdentifiers yes, sharedSubscriptions yes",
                    "shared        pass: $share/tether-probe-", "acknowledged  subscribe(): after emission to the subscriber under its demand",
                    "manual check pass:");

            // MQTT 3.1.1: the CONNACK cannot say, and the report says so instead of guessing.
            TetherCommandIT.Result v3 = TetherCommandIT.run("probe", "mqtt", broker.tcpUri(), "--mqtt-version", "3",
                    "--jwt-hs256-secret-file", secretFile.toString(), "--will-wait", "2s", "--json");
            assertThat(v3.out()).contains("\"subscription_identifiers_available\":false", "\"shared_subscriptions_available\":null",
                    "\"manual_check\":\"not_checked\"");

            // A wrong password: the CONNACK code and the verdict say what to do.
            TetherCommandIT.Result refused = TetherCommandIT.run("probe", "mqtt", broker.tcpUri(),
                    "--username", "x", "--password", "not-a-jwt", "--json");
            assertThat(refused.code()).isEqualTo(1);
            assertThat(refused.out()).containsPattern("\"connack\":\\{\"code\":(134|135|4|5),\"verdict\":\"refresh_credentials_then_retry\"\\}")
                    .doesNotContain("not-a-jwt");
        }
    }

    @Test
    void watchMqttPrintsTheNegotiatedSessionAndTakesASharedSubscription(@TempDir Path dir) throws Exception {
        Path secretFile = Files.writeString(dir.resolve("secret"), SECRET, StandardCharsets.UTF_8);
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        try (JwtBroker broker = JwtBroker.start(verifier, why -> { })) {
            TetherCommandIT.Result r = TetherCommandIT.run("watch", "mqtt", broker.tcpUri(),
                    "--jwt-hs256-secret-file", secretFile.toString(), "--subscribe", "$share/watchers/alerts/#",
                    "--duration", "2s", "--json");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("\"event\":\"session\",\"mqtt_version\":\"5\"", "\"subscription_identifiers\":true",
                    "\"shared_subscriptions\":true", "\"subscription\":\"$share/watchers/alerts/#\"",
                    "\"shared_group\":\"watchers\"", "\"acknowledgement\":\"QoS 1/2: after emission to this watcher under its demand");
            assertThat(r.out()).containsPattern("\"kind\":\"subscribed\",\"details\":\"subscribed \\[\\$share/watchers/alerts/# -> granted QoS 1\\]\"");

            TetherCommandIT.Result human = TetherCommandIT.run("watch", "mqtt", broker.tcpUri(), "--mqtt-version", "3",
                    "--jwt-hs256-secret-file", secretFile.toString(), "--subscribe", "alerts/#", "--duration", "1s");
            assertThat(human.code()).as(human.out() + human.err()).isZero();
            assertThat(human.out()).contains("session  MQTT 3.1.1", "subscriptionIdentifiers=false",
                    "sharedSubscriptions=unknown (MQTT 3.1.1 cannot say)", "alerts/#: acknowledged QoS 1/2: after emission");
        }
    }

    @Test
    void probeWsReportsACleanCloseHandshake() {
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws")
                .handler(s -> s.send(s.receive())).build();
        server.start().block(Duration.ofSeconds(10));
        try {
            TetherCommandIT.Result r = TetherCommandIT.run("probe", "ws", "ws://127.0.0.1:" + server.port() + "/ws", "--json");
            assertThat(r.code()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("\"handshake_ms\":", "\"ping_rtt_ms\":",
                    "\"close\":{\"code_sent\":1000,\"code_received\":1000,", "\"timer_fired\":\"none\",\"tcp_closed_by\":\"server\",\"clean\":true");
        } finally {
            server.stop().block(Duration.ofSeconds(10));
        }
    }
}
