package dev.tether.mqtt;

import static dev.tether.mqtt.test.FakeBroker.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.RetriesExhaustedException;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.test.FakeBroker;
import dev.tether.mqtt.test.FakeWebSocketBroker;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.security.KeyStore;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS is verified TLS: certificate and host name checked by default, clear refusals that do not loop,
 * custom trust, and client certificates (mutual TLS).
 */
@SuppressWarnings("deprecation")
class TlsVerificationIT {

    static final byte[] CONNACK_V5_OK = bytes(0x20, 0x03, 0x00, 0x00, 0x00);

    static SelfSignedCertificate localhost;
    static SelfSignedCertificate otherHost;
    static SelfSignedCertificate clientCert;
    static SslContext localhostServer;

    @BeforeAll
    static void certificates() throws Exception {
        localhost = new SelfSignedCertificate("localhost");
        otherHost = new SelfSignedCertificate("broker.other.example");
        clientCert = new SelfSignedCertificate("sensor-7");
        localhostServer = SslContextBuilder.forServer(localhost.certificate(), localhost.privateKey()).build();
    }

    @AfterAll
    static void cleanUp() {
        localhost.delete();
        otherHost.delete();
        clientCert.delete();
    }

    static ReconnectPolicy fast() {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build();
    }

    @Test
    void aSelfSignedBrokerIsRefusedByDefaultClearlyAndTheClientGivesUpAfterAFewTries() {
        try (FakeBroker broker = FakeBroker.startTls(localhostServer, n -> CONNACK_V5_OK)) {
            MqttClient c = MqttClient.builder().endpoint("ssl://localhost:" + broker.port()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
            c.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause())
                    .hasMessageContaining("the server certificate of localhost:" + broker.port() + " was refused")
                    .hasMessageContaining("not signed by a trusted authority")
                    .hasMessageContaining("subject 'CN=localhost'")
                    .hasMessageContaining("trustedCertificates(...)");
            LifecycleEvent.Closed closed = events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(closed.cause()).isInstanceOf(RetriesExhaustedException.class)
                    .hasMessageContaining("gave up after " + (MqttClient.Builder.TLS_REFUSALS_BEFORE_GIVING_UP + 1) + " failures in a row")
                    .hasMessageContaining("the server certificate of localhost:" + broker.port() + " was refused");
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
            assertThat(events.items()).filteredOn(e -> e instanceof LifecycleEvent.Connecting)
                    .hasSize(MqttClient.Builder.TLS_REFUSALS_BEFORE_GIVING_UP + 1);
            // Nothing MQTT was ever sent to the untrusted server.
            assertThat(broker.received()).isEmpty();
        }
    }

    @Test
    void theRightTrustedCertificateIsAccepted() {
        try (FakeBroker broker = FakeBroker.startTls(localhostServer, n -> CONNACK_V5_OK)) {
            MqttClient c = MqttClient.builder().endpoint("ssl://localhost:" + broker.port())
                    .trustedCertificates(localhost.cert()).build().start();
            assertThat(c.awaitConnected(Duration.ofSeconds(10)).block().transport()).isEqualTo("ssl");
            c.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aTrustStoreIsAcceptedOverWss() throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("broker", localhost.cert());
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.startTls(localhostServer)) {
            MqttClient c = MqttClient.builder().endpoint(broker.wsUri()).trustStore(store).build().start();
            assertThat(c.awaitConnected(Duration.ofSeconds(10)).block().transport()).isEqualTo("wss");
            c.close().block(Duration.ofSeconds(5));
        }
    }

    @Test
    void aTrustedCertificateForAnotherHostNameIsRefused() throws Exception {
        SslContext server = SslContextBuilder.forServer(otherHost.certificate(), otherHost.privateKey()).build();
        try (FakeBroker broker = FakeBroker.startTls(server, n -> CONNACK_V5_OK)) {
            MqttClient c = MqttClient.builder().endpoint("ssl://localhost:" + broker.port())
                    .trustedCertificates(otherHost.cert()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
            c.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause())
                    .hasMessageContaining("the server certificate of localhost:" + broker.port() + " was refused")
                    .hasMessageContaining("broker.other.example")
                    .hasMessageContaining("not for localhost (host name verification)");
            events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
        }
    }

    @Test
    void theHostNameIsVerifiedEvenWithARawSslContextOverWss() throws Exception {
        // The context trusts the certificate, but it was issued for localhost and the endpoint says 127.0.0.1.
        SslContext trusting = SslContextBuilder.forClient().trustManager(localhost.cert()).endpointIdentificationAlgorithm(null).build();
        try (FakeWebSocketBroker broker = FakeWebSocketBroker.startTls(localhostServer)) {
            String uri = broker.wsUri().replace("localhost", "127.0.0.1");
            assertThat(uri).contains("127.0.0.1");
            MqttClient c = MqttClient.builder().endpoint(uri).sslContext(trusting).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
            c.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).hasMessageContaining("TLS").hasMessageContaining("127.0.0.1");
            events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
        }
    }

    @Test
    void theHostNameIsVerifiedEvenWithARawSslContextOverTls() throws Exception {
        SslContext trusting = SslContextBuilder.forClient().trustManager(localhost.cert()).endpointIdentificationAlgorithm(null).build();
        try (FakeBroker broker = FakeBroker.startTls(localhostServer, n -> CONNACK_V5_OK)) {
            MqttClient c = MqttClient.builder().endpoint("ssl://127.0.0.1:" + broker.port()).sslContext(trusting)
                    .reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(c.lifecycle());
            c.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).hasMessageContaining("TLS").hasMessageContaining("127.0.0.1");
            events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
            assertThat(broker.received()).isEmpty();
        }
    }

    @Test
    void mutualTlsConnectsWithTheClientCertificateAndNotWithout() throws Exception {
        SslContext server = SslContextBuilder.forServer(localhost.certificate(), localhost.privateKey())
                .trustManager(clientCert.cert()).clientAuth(ClientAuth.REQUIRE).build();
        try (FakeBroker broker = FakeBroker.startTls(server, n -> CONNACK_V5_OK)) {
            MqttClient with = MqttClient.builder().endpoint("ssl://localhost:" + broker.port())
                    .trustedCertificates(localhost.cert()).clientCertificate(clientCert.key(), clientCert.cert()).build().start();
            with.awaitConnected(Duration.ofSeconds(10)).block();
            with.close().block(Duration.ofSeconds(5));
            // The broker has seen the first client's DISCONNECT before counting.
            broker.receivedTypes().filter(t -> t == io.netty.handler.codec.mqtt.MqttMessageType.DISCONNECT).next()
                    .block(Duration.ofSeconds(5));
            int accepted = broker.received().size();
            assertThat(accepted).isGreaterThan(0);

            MqttClient without = MqttClient.builder().endpoint("ssl://localhost:" + broker.port())
                    .trustedCertificates(localhost.cert()).reconnect(fast()).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(without.lifecycle());
            without.start();
            LifecycleEvent.RetryScheduled retry = events.await(LifecycleEvent.RetryScheduled.class, Duration.ofSeconds(10));
            assertThat(retry.cause()).hasMessageContaining("TLS");
            events.await(LifecycleEvent.Closed.class, Duration.ofSeconds(10));
            assertThat(events.items()).noneMatch(e -> e instanceof LifecycleEvent.Connected);
            // The broker never decoded an MQTT packet from the client without a certificate.
            assertThat(broker.received()).hasSize(accepted);
        }
    }

    @Test
    void tlsOptionsAreValidatedAndNeverSilentlyCombined() throws Exception {
        SslContext raw = SslContextBuilder.forClient().build();
        assertThatThrownBy(() -> MqttClient.builder().endpoint("ssl://localhost:8883").sslContext(raw)
                .trustedCertificates(localhost.cert()).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sslContext cannot be combined");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        assertThatThrownBy(() -> MqttClient.builder().endpoint("ssl://localhost:8883").trustStore(store)
                .trustedCertificates(localhost.cert()).build())
                .hasMessageContaining("trustStore and trustedCertificates");
        assertThatThrownBy(() -> MqttClient.builder().trustedCertificates()).hasMessageContaining("trustedCertificates");
        // The private key never shows in the client's description.
        MqttClient c = MqttClient.builder().endpoint("ssl://localhost:8883").clientCertificate(clientCert.key(), clientCert.cert()).build();
        assertThat(c.toString()).doesNotContain(clientCert.key().toString());
    }
}
