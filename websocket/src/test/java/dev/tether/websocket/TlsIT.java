package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** TLS is verified TLS: certificate and host name checked by default, trust stores and client certificates. */
@SuppressWarnings("deprecation")
class TlsIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    static SelfSignedCertificate localhost;
    static SelfSignedCertificate otherHost;
    static SelfSignedCertificate clientCert;

    private WebSocketServer server;

    @BeforeAll
    static void certificates() throws Exception {
        localhost = new SelfSignedCertificate("localhost");
        otherHost = new SelfSignedCertificate("example.com");
        clientCert = new SelfSignedCertificate("bot-client");
    }

    @AfterAll
    static void delete() {
        localhost.delete();
        otherHost.delete();
        clientCert.delete();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow(WAIT);
        }
    }

    private void start(SslContext tls, Authenticator auth) {
        server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").sslContext(tls).authenticator(auth).build();
        server.start().block(WAIT);
    }

    private Endpoint endpoint() {
        return Endpoint.of("wss://localhost:" + server.port() + "/ws");
    }

    private Mono<WebSocketSession> connect(WebSocketClient client) {
        return client.connect(new TestAttempt(endpoint())).map(EstablishedSession::session);
    }

    private Throwable failure(WebSocketClient client) {
        return connect(client).map(s -> (Throwable) new AssertionError("connected")).onErrorResume(Mono::just).block(WAIT);
    }

    @Test
    void aSelfSignedServerIsRefusedByDefaultWithAnErrorNamingHostAndProblem() throws Exception {
        start(SslContextBuilder.forServer(localhost.certificate(), localhost.privateKey()).build(), Authenticator.ALLOW_ALL);
        Throwable t = failure(WebSocketClient.builder().build());
        assertThat(t).isInstanceOf(ConnectionFailedException.class)
                .hasMessageContaining("TLS handshake with localhost:" + server.port())
                .hasMessageContaining("not trusted");
        assertThat(server.stats().sessions()).isZero();
    }

    @Test
    void theRightTrustStoreIsAccepted() throws Exception {
        start(SslContextBuilder.forServer(localhost.certificate(), localhost.privateKey()).build(), Authenticator.ALLOW_ALL);
        SslContext trust = SslContextBuilder.forClient().trustManager(localhost.certificate()).build();
        WebSocketSession s = connect(WebSocketClient.builder().sslContext(trust).build()).block(WAIT);
        ServerAuthenticationIT.awaitSessions(server, 1);
        assertThat(server.sessions().broadcast(WebSocketMessage.text("over tls")).block(WAIT)).isEqualTo(1);
        assertThat(s.receive().next().map(WebSocketMessage::text).block(WAIT)).isEqualTo("over tls");
        assertThat(s.close(1000, "").block(WAIT).clean()).isTrue();
    }

    @Test
    void aTrustedCertificateForAnotherHostIsRefusedByHostNameVerification() throws Exception {
        start(SslContextBuilder.forServer(otherHost.certificate(), otherHost.privateKey()).build(), Authenticator.ALLOW_ALL);
        SslContext trust = SslContextBuilder.forClient().trustManager(otherHost.certificate()).build();
        Throwable t = failure(WebSocketClient.builder().sslContext(trust).build());
        assertThat(t).isInstanceOf(ConnectionFailedException.class)
                .hasMessageContaining("localhost:" + server.port())
                .hasMessageContaining("does not name host 'localhost'");
        assertThat(server.stats().sessions()).isZero();
    }

    @Test
    void aClientContextThatTurnedHostNameVerificationOffIsStillVerified() throws Exception {
        start(SslContextBuilder.forServer(otherHost.certificate(), otherHost.privateKey()).build(), Authenticator.ALLOW_ALL);
        SslContext lax = SslContextBuilder.forClient().trustManager(otherHost.certificate()).endpointIdentificationAlgorithm(null).build();
        Throwable t = failure(WebSocketClient.builder().sslContext(lax).build());
        assertThat(t).isInstanceOf(ConnectionFailedException.class).hasMessageContaining("does not name host 'localhost'");
        assertThat(server.stats().sessions()).isZero();
    }

    @Test
    void clientCertificatesAuthenticateAndTheAuthenticatorSeesThem() throws Exception {
        SslContext tls = SslContextBuilder.forServer(localhost.certificate(), localhost.privateKey())
                .trustManager(clientCert.cert()).clientAuth(ClientAuth.REQUIRE).build();
        start(tls, r -> Mono.just(r.peerCertificates().isEmpty() ? AuthDecision.unauthorized("no client certificate")
                : AuthDecision.accept(((X509Certificate) r.peerCertificates().get(0)).getSubjectX500Principal().getName())));
        SslContext anonymous = SslContextBuilder.forClient().trustManager(localhost.certificate()).build();
        assertThat(failure(WebSocketClient.builder().sslContext(anonymous).build())).isNotInstanceOf(AssertionError.class);
        assertThat(server.stats().sessions()).isZero();

        SslContext withCert = SslContextBuilder.forClient().trustManager(localhost.certificate())
                .keyManager(clientCert.certificate(), clientCert.privateKey()).build();
        WebSocketSession s = connect(WebSocketClient.builder().sslContext(withCert).build()).block(WAIT);
        ServerAuthenticationIT.awaitSessions(server, 1);
        assertThat(server.sessions().all().iterator().next().principal()).contains("CN=bot-client");
        s.close(1000, "").block(WAIT);
    }
}
