package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import dev.tether.mqtt.test.FakeWebSocketBroker;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** TLS and WSS with a self-signed certificate the client is told to trust; an untrusted one is refused. */
class TlsTransportIT {

    static SelfSignedCertificate cert;
    static SslContext server;
    static SslContext client;

    @BeforeAll
    @SuppressWarnings("deprecation")
    static void certificates() throws Exception {
        cert = new SelfSignedCertificate("localhost");
        server = SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build();
        client = SslContextBuilder.forClient().trustManager(cert.certificate()).build();
    }

    @AfterAll
    @SuppressWarnings("deprecation")
    static void cleanUp() {
        cert.delete();
    }

    @Test
    void connectsAndClosesOverTls() {
        try (FakeBroker broker = FakeBroker.startTls(server, n -> bytes(0x20, 0x03, 0x00, 0x00, 0x00))) {
            MqttClient c = MqttClient.builder().endpoint("ssl://localhost:" + broker.port()).sslContext(client).build().start();
            MqttSession session = c.awaitConnected(Duration.ofSeconds(10)).block();
            assertThat(session.transport()).isEqualTo("ssl");
            c.close().block(Duration.ofSeconds(5));
            broker.receivedTypes().filter(t -> t == MqttMessageType.DISCONNECT).next().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void connectsAndClosesOverWss() {
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.startTls(server)) {
            MqttClient c = MqttClient.builder().endpoint(broker.wsUri()).sslContext(client).build().start();
            MqttSession session = c.awaitConnected(Duration.ofSeconds(10)).block();
            assertThat(session.transport()).isEqualTo("wss");
            c.close().block(Duration.ofSeconds(5));
            broker.tcpClosed().next().block(Duration.ofSeconds(5));
            assertThat(broker.packetTypes()).containsExactly(1, 14);
            assertThat(broker.closeFrames()).singleElement().satisfies(f -> assertThat(f.payloadLength()).isEqualTo(2));
        }
    }

    @Test
    void untrustedCertificateIsRetriedNotAccepted() {
        try (FakeBroker broker = FakeBroker.startTls(server, n -> bytes(0x20, 0x03, 0x00, 0x00, 0x00))) {
            MqttClient c = MqttClient.builder().endpoint("ssl://localhost:" + broker.port()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
            c.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).hasStackTraceContaining("SSL");
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
            c.close().block(Duration.ofSeconds(5));
        }
    }
}
