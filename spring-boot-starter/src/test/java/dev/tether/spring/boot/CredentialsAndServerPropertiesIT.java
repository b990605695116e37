package dev.tether.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.websocket.BearerAuthenticator;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.IOException;
import java.io.OutputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The credentials, Will, server and announcer property groups against real peers: a broker that verifies the
 * signatures, an OAuth2 token endpoint over HTTP, the starter's own WebSocket server checking bearer tokens.
 */
class CredentialsAndServerPropertiesIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String SECRET = "credentials-test-secret-of-32-bytes-or-more";

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TetherAutoConfiguration.class));

    @Test
    void rs256AndEs256TokensAreSignedWithTheKeyAtTheConfiguredLocation(@TempDir Path dir) throws Exception {
        KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
        rsaGen.initialize(2048);
        KeyPair rsa = rsaGen.generateKeyPair();
        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ec = ecGen.generateKeyPair();
        Path rsaPem = pem(dir.resolve("rsa.pem"), rsa);
        Path ecPem = pem(dir.resolve("ec.pem"), ec);
        JwtVerifier verifier = JwtVerifier.builder().publicKey("rsa-1", rsa.getPublic()).publicKey("ec-1", ec.getPublic()).build();
        List<String> subjects = new CopyOnWriteArrayList<>();
        try (Broker broker = Broker.start((clientId, user, password) -> {
            try {
                subjects.add(verifier.verify(new String(password, StandardCharsets.UTF_8), Instant.now()).getSubject());
                return true;
            } catch (Exception e) {
                return false;
            }
        }, e -> { })) {
            runner.withPropertyValues("tether.mqtt.clients.rs.endpoints=" + broker.tcpUri(),
                            "tether.mqtt.clients.rs.jwt.algorithm=RS256", "tether.mqtt.clients.rs.jwt.key-location=file:" + rsaPem,
                            "tether.mqtt.clients.rs.jwt.key-id=rsa-1", "tether.mqtt.clients.rs.jwt.subject=signed-rs256",
                            "tether.mqtt.clients.es.endpoints=" + broker.tcpUri(),
                            "tether.mqtt.clients.es.jwt.algorithm=ES256", "tether.mqtt.clients.es.jwt.key-location=" + ecPem,
                            "tether.mqtt.clients.es.jwt.key-id=ec-1", "tether.mqtt.clients.es.jwt.subject=signed-es256")
                    .run(ctx -> {
                        assertThat(ctx).hasNotFailed();
                        ctx.getBean("rs", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                        ctx.getBean("es", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                        assertThat(subjects).contains("signed-rs256", "signed-es256");
                    });
        }
    }

    @Test
    void tokensComeFromTheOAuth2ClientCredentialsEndpoint() {
        List<String> authorizations = new CopyOnWriteArrayList<>();
        String token = JwtSigner.builder().hs256(SECRET.getBytes(StandardCharsets.UTF_8)).subject("from-issuer").build()
                .sign(Instant.now());
        DisposableServer issuer = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/oauth2/token", (req, res) -> {
                    authorizations.add(String.valueOf(req.requestHeaders().get("Authorization")));
                    return res.header("Content-Type", "application/json").sendString(Mono.just(
                            "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":300}"));
                }))
                .bindNow();
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        try (Broker broker = Broker.start((clientId, user, password) -> {
            try {
                return verifier.verify(new String(password, StandardCharsets.UTF_8), Instant.now()).getSubject()
                        .equals("from-issuer");
            } catch (Exception e) {
                return false;
            }
        }, e -> { })) {
            String c = "tether.mqtt.clients.telemetry.";
            runner.withPropertyValues(c + "endpoints=" + broker.tcpUri(),
                            c + "jwt.token-endpoint.uri=http://127.0.0.1:" + issuer.port() + "/oauth2/token",
                            c + "jwt.token-endpoint.client-id=telemetry-service", c + "jwt.token-endpoint.client-secret=s3cret",
                            c + "jwt.token-endpoint.scopes=mqtt")
                    .run(ctx -> {
                        assertThat(ctx).hasNotFailed();
                        ctx.getBean("telemetry", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                        String basic = "Basic " + Base64.getEncoder().encodeToString("telemetry-service:s3cret"
                                .getBytes(StandardCharsets.UTF_8));
                        assertThat(authorizations).contains(basic);
                    });
        } finally {
            issuer.disposeNow();
        }
    }

    @Test
    void aSpringSslBundleDecidesWhichBrokerCertificateIsTrusted(@TempDir Path dir) throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("broker", cert.key(), "changeit".toCharArray(), new Certificate[] {cert.cert()});
        Path keyStore = dir.resolve("broker.p12");
        try (OutputStream out = Files.newOutputStream(keyStore)) {
            store.store(out, "changeit".toCharArray());
        }
        try (Broker broker = Broker.startTls(keyStore)) {
            String c = "tether.mqtt.clients.secure.";
            // The bundle trusts the broker's certificate: verified TLS, connected.
            runner.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class))
                    .withPropertyValues(c + "endpoints=" + broker.sslUri(), c + "tls.bundle=broker",
                            "spring.ssl.bundle.pem.broker.truststore.certificate=file:" + cert.certificate().getAbsolutePath())
                    .run(ctx -> {
                        assertThat(ctx).hasNotFailed();
                        ctx.getBean("secure", MqttClient.class).awaitConnected(WAIT).block(WAIT);
                    });
            // Without the bundle the JDK's trust store refuses the self-signed certificate.
            runner.withPropertyValues(c + "endpoints=" + broker.sslUri(), c + "reconnect.max-attempts=1")
                    .run(ctx -> {
                        MqttClient client = ctx.getBean("secure", MqttClient.class);
                        assertThatThrownBy(() -> client.awaitConnected(WAIT).block(WAIT)).hasMessageContaining("certificate");
                    });
        } finally {
            cert.delete();
        }
    }

    @Test
    void webSocketClientsTrustTheServerThroughASpringSslBundle() throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        // A wss server of its own, up before the client's first attempt.
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/tls")
                .sslContext(io.netty.handler.ssl.SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build())
                .handler(session -> session.receive().then()).build();
        server.start().block(WAIT);
        String c = "tether.websocket.clients.secure.";
        ApplicationContextRunner tls = runner.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class))
                .withPropertyValues(c + "endpoints=wss://localhost:" + server.port() + "/tls", c + "reconnect.max-attempts=1",
                        "spring.ssl.bundle.pem.server.truststore.certificate=file:" + cert.certificate().getAbsolutePath());
        try {
            tls.withPropertyValues(c + "tls.bundle=server").run(ctx -> {
                assertThat(ctx).hasNotFailed();
                @SuppressWarnings("unchecked")
                ResilientConnection<WebSocketSession> secure = ctx.getBean("secure", ResilientConnection.class);
                secure.awaitConnected(WAIT).block(WAIT);
                Await.until(() -> server.sessions().count() == 1, WAIT, "the wss session");
            });
            // Without the bundle the JDK's trust store refuses the self-signed certificate.
            tls.run(ctx -> {
                @SuppressWarnings("unchecked")
                ResilientConnection<WebSocketSession> secure = ctx.getBean("secure", ResilientConnection.class);
                assertThatThrownBy(() -> secure.awaitConnected(WAIT).block(WAIT)).hasMessageContaining("certificate");
            });
        } finally {
            server.stop().block(WAIT);
            cert.delete();
        }
    }

    @Test
    void theWillOfThePropertiesIsPublishedWhenTheClientAborts() {
        try (Broker broker = Broker.start()) {
            MqttClient watcher = MqttClient.builder().endpoint(broker.tcpUri()).clientId("watcher").build().start();
            List<String> wills = new CopyOnWriteArrayList<>();
            Disposable sub = watcher.subscribe("status/#", MqttQos.AT_LEAST_ONCE).subscribe(m -> wills.add(m.payloadAsString()));
            try {
                watcher.awaitConnected(WAIT).block(WAIT);
                String c = "tether.mqtt.clients.telemetry.";
                runner.withPropertyValues(c + "endpoints=" + broker.tcpUri(), c + "will.topic=status/telemetry",
                                c + "will.payload=gone", c + "will.qos=1")
                        .run(ctx -> {
                            MqttClient client = ctx.getBean("telemetry", MqttClient.class);
                            client.awaitConnected(WAIT).block(WAIT);
                            // The subscription is in place once a retained-free probe round-trips.
                            Await.until(() -> {
                                watcher.publish(MqttMessage.of("status/probe", "probe", MqttQos.AT_LEAST_ONCE)).block(WAIT);
                                return wills.contains("probe");
                            }, WAIT, "the watcher's subscription");
                            client.abort().block(WAIT);
                            Await.until(() -> wills.contains("gone"), WAIT, "the Will from the properties");
                        });
            } finally {
                sub.dispose();
                watcher.close().block(WAIT);
            }
        }
    }

    @Test
    void webSocketClientsPresentTheirTokenTheServerCustomizerChecksItAndTheClientCustomizerAsksForTheSubprotocol() {
        int port = Broker.freePort();
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8)).build();
        runner.withUserConfiguration(Server.class)
                .withBean(TetherWebSocketServerCustomizer.class, () -> b -> b.authenticator(
                        BearerAuthenticator.builder(verifier::verify).build()))
                .withBean(TetherWebSocketClientCustomizer.class, () -> (name, b) -> b.subprotocols(name + ".v1"))
                .withPropertyValues("tether.websocket.server.host=127.0.0.1", "tether.websocket.server.port=" + port,
                        "tether.websocket.server.path=/events", "tether.websocket.server.onebot.enabled=true",
                        "tether.websocket.server.subprotocols=events.v1",
                        "tether.websocket.server.onebot.self-id=10001",
                        "tether.websocket.clients.events.endpoints=ws://127.0.0.1:" + port + "/events",
                        "tether.websocket.clients.events.jwt.algorithm=HS256", "tether.websocket.clients.events.jwt.secret=" + SECRET,
                        "tether.websocket.clients.events.headers.X-Team=blue")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    @SuppressWarnings("unchecked")
                    ResilientConnection<WebSocketSession> events = ctx.getBean("events", ResilientConnection.class);
                    List<String> received = new CopyOnWriteArrayList<>();
                    Disposable d = events.perSession(WebSocketSession::receive).subscribe(m -> received.add(m.text()));
                    try {
                        events.awaitConnected(WAIT).block(WAIT);
                        // The announcer of the properties greets each session with a OneBot lifecycle event.
                        Await.until(() -> received.stream().anyMatch(m -> m.contains("\"self_id\":10001")
                                && m.contains("\"meta_event_type\":\"lifecycle\"")), WAIT, "the OneBot lifecycle event");
                        assertThat(ctx.getBean(WebSocketServer.class).sessions().count()).isEqualTo(1);
                        // The client customizer asked for the subprotocol the server's properties offer.
                        assertThat(events.currentSession().orElseThrow().subprotocol()).contains("events.v1");
                    } finally {
                        d.dispose();
                    }
                });
    }

    private static Path pem(Path file, KeyPair pair) throws IOException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded());
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
        return file;
    }

    @Configuration(proxyBeanMethods = false)
    static class Server {
        @Bean
        TetherWebSocketHandler handler() {
            return session -> session.receive().then();
        }
    }
}
