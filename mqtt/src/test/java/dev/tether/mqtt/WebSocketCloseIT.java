package dev.tether.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeWebSocketBroker;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Field report 000 from the server's side of the WebSocket: every disconnect sends one proper close
 * frame (1000, 2-byte payload) and ends with TCP really closed within the bound.
 */
class WebSocketCloseIT {

    static MqttClient connect(FakeWebSocketBroker broker, Duration transportCloseTimeout) {
        MqttClient client = MqttClient.builder().endpoint(broker.wsUri())
                .transportCloseTimeout(transportCloseTimeout).build().start();
        client.awaitConnected(Duration.ofSeconds(10)).block();
        return client;
    }

    @Test
    void gracefulCloseSendsDisconnectThenOneCloseFrameAndTcpCloses() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            MqttClient client = connect(broker, Duration.ofSeconds(2));
            long t0 = System.nanoTime();
            client.close().block(Duration.ofSeconds(10));
            long closedAt = broker.tcpClosed().next().block(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(closedAt - t0)).as("frames " + broker.closeFrames().stream()
                    .map(f -> f + " at " + (f.nanoTime() - t0) / 1_000_000 + " ms").toList()).isLessThan(Duration.ofSeconds(1));
            assertThat(broker.packetTypes()).containsExactly(1, 14); // CONNECT, DISCONNECT
            assertThat(broker.closeFrames()).singleElement().satisfies(f -> {
                assertThat(f.code()).isEqualTo(1000);
                assertThat(f.payloadLength()).isEqualTo(2);
            });
            assertThat(broker.open()).isZero();
        }
    }

    @Test
    void abortSendsNoDisconnectAndClosesTcpAtOnce() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            MqttClient client = connect(broker, Duration.ofSeconds(2));
            long t0 = System.nanoTime();
            client.abort().block(Duration.ofSeconds(10));
            long closedAt = broker.tcpClosed().next().block(Duration.ofSeconds(5));
            assertThat(Duration.ofNanos(closedAt - t0)).isLessThan(Duration.ofMillis(500));
            assertThat(broker.packetTypes()).containsExactly(1);
            assertThat(broker.closeFrames()).allSatisfy(f -> assertThat(f.code()).isEqualTo(1000)).hasSizeLessThanOrEqualTo(1);
        }
    }

    @Test
    void withheldCloseReplyStillEndsWithTcpClosedWithinTheBound() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            broker.withholdCloseReply(true);
            MqttClient client = connect(broker, Duration.ofMillis(300));
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            long t0 = System.nanoTime();
            client.close().block(Duration.ofSeconds(10));
            long closedAt = broker.tcpClosed().next().block(Duration.ofSeconds(5));
            Duration took = Duration.ofNanos(closedAt - t0);
            assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(250)).isLessThan(Duration.ofSeconds(2));
            assertThat(broker.closeFrames()).singleElement().satisfies(f -> assertThat(f.payloadLength()).isEqualTo(2));
            LifecycleEvent.Notice closed = (LifecycleEvent.Notice) events.await(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("websocket-closed"),
                    Duration.ofSeconds(1));
            dev.tether.websocket.CloseSummary summary = (dev.tether.websocket.CloseSummary) closed.details();
            assertThat(summary.timersFired()).containsExactly(dev.tether.websocket.CloseTimer.CLOSE_HANDSHAKE_TIMEOUT);
            assertThat(summary.codeSent()).isEqualTo(1000);
            assertThat(summary.closeFrameReceived()).isFalse();
        }
    }

    @Test
    void headersAndQueryAreComputedForEveryAttemptFromThatAttemptsCredentials() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            java.util.concurrent.atomic.AtomicInteger issued = new java.util.concurrent.atomic.AtomicInteger();
            MqttClient client = MqttClient.builder().endpoint(broker.wsUri() + "?tenant=a")
                    .credentials(r -> reactor.core.publisher.Mono.fromSupplier(() -> dev.tether.core.Credentials.token("t" + issued.incrementAndGet())))
                    .webSocketHeaders(c -> java.util.Map.of("Authorization", "Bearer " + c.secret().orElseThrow()))
                    .webSocketQuery(c -> java.util.Map.of("token", c.secret().orElseThrow()))
                    .reconnect(dev.tether.core.ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).build())
                    .build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(client.lifecycle());
            client.start();
            client.awaitConnected(Duration.ofSeconds(10)).block();
            broker.closeAllFromServer();
            events.await(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, Duration.ofSeconds(10));
            assertThat(broker.upgrades()).containsExactly("/mqtt?tenant=a&token=t1 authorization=Bearer t1",
                    "/mqtt?tenant=a&token=t2 authorization=Bearer t2");
            client.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void credentialAttributesBecomeHeadersAndQueryByDefault() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.start()) {
            MqttClient client = MqttClient.builder().endpoint(broker.wsUri())
                    .credentials(dev.tether.core.CredentialsProvider.fixed(dev.tether.core.Credentials.token("jwt")
                            .withAttribute("header.Authorization", "Bearer jwt").withAttribute("query.access_token", "jwt")))
                    .build().start();
            client.awaitConnected(Duration.ofSeconds(10)).block();
            assertThat(broker.upgrades()).containsExactly("/mqtt?access_token=jwt authorization=Bearer jwt");
            client.close().block(Duration.ofSeconds(5));
        }
    }
}
