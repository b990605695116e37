package dev.tether.jwt;

import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Endpoint;
import dev.tether.core.FatalConnectionException;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.Verdict;
import dev.tether.core.testing.Recorder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.tcp.TcpClient;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real {@link ResilientConnection} over real TCP to a server that checks every JWT with Nimbus:
 * each attempt presents a valid token, a refused token is replaced before the next attempt, and
 * expired tokens are never presented.
 */
class ResilientConnectionJwtIT {

    private static final ReconnectPolicy FAST = ReconnectPolicy.builder()
            .initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(100)).build();

    private static String jti(String token) throws Exception {
        return SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
    }

    @Test
    void aRefusedTokenIsReplacedBeforeTheNextAttemptAndNoTokenIsLogged() throws Exception {
        try (LogCapture logs = new LogCapture();
             TokenCheckingServer server = new TokenCheckingServer(TestKeys.HMAC_SECRET, false)) {
            server.refuseNext(1);
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                    .selfSigned(JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).subject("device-1").lifetime(Duration.ofMinutes(5)).build())
                    .mapping(TokenMapping.password("device-1"))
                    .build();
            ResilientConnection<Connection> conn = ResilientConnection.builder(new TokenLineConnector())
                    .endpoint(Endpoint.of("tcp://127.0.0.1:" + server.port()))
                    .credentials(tokens)
                    .reconnect(FAST)
                    .build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle());
            conn.start();
            conn.awaitConnected(Duration.ofSeconds(10)).block(Duration.ofSeconds(15));

            // Attempt 1 was refused as revoked; attempt 2 asked for a refresh and got a new token.
            assertThat(server.refusals).containsExactly("revoked");
            assertThat(server.presented).hasSize(2);
            assertThat(jti(server.presented.get(1))).isNotEqualTo(jti(server.presented.get(0)));
            assertThat(server.accepted).containsExactly(server.presented.get(1));
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(LifecycleEvent.RetryScheduled.class,
                    r -> assertThat(r.verdict().kind()).isEqualTo(Verdict.Kind.REFRESH_CREDENTIALS_THEN_RETRY)));
            assertThat(events.items()).anySatisfy(e -> assertThat(e).isInstanceOf(LifecycleEvent.CredentialsRefreshed.class));

            // The server drops the session: the reconnect presents the still-fresh cached token.
            server.kickAll();
            events.awaitCount(2, LifecycleEvent.Connected.class::isInstance, Duration.ofSeconds(10));
            assertThat(server.presented).hasSize(3);
            assertThat(server.presented.get(2)).isEqualTo(server.presented.get(1));
            assertThat(tokens.fetchCount()).isEqualTo(2);

            conn.close().block(Duration.ofSeconds(10));
            // Closed means closed on the server's side too: every admitted channel is inactive there.
            Mono.when(server.admitted.stream().map(Connection::onDispose).toList()).block(Duration.ofSeconds(10));
            assertThat(server.admitted).hasSize(2).allSatisfy(c -> assertThat(c.channel().isActive()).isFalse());

            List<String> texts = logs.texts();
            assertThat(texts).as("the engine and the provider logged the attempts").isNotEmpty();
            for (String token : server.presented) {
                String signature = token.substring(token.lastIndexOf('.') + 1);
                assertThat(texts).noneSatisfy(t -> assertThat(t).contains(signature));
            }
        }
    }

    @Test
    void everyAttemptPresentsAnUnexpiredTokenWhileTokensExpireEveryTwoSeconds() throws Exception {
        try (TokenCheckingServer server = new TokenCheckingServer(TestKeys.HMAC_SECRET, true)) {
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                    .selfSigned(JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).lifetime(Duration.ofSeconds(2)).build())
                    .refreshSkew(Duration.ofSeconds(1))
                    .build();
            ResilientConnection<Connection> conn = ResilientConnection.builder(new TokenLineConnector())
                    .endpoint(Endpoint.of("tcp://127.0.0.1:" + server.port()))
                    .credentials(tokens)
                    .reconnect(FAST)
                    .build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle());
            conn.start();
            // The server closes each session when its token expires; the client comes back with a new one.
            events.awaitCount(3, LifecycleEvent.Connected.class::isInstance, Duration.ofSeconds(20));
            conn.close().block(Duration.ofSeconds(10));

            assertThat(server.refusals).as("no expired token was ever presented").isEmpty();
            assertThat(server.accepted).hasSizeGreaterThanOrEqualTo(3);
            Set<String> ids = new HashSet<>();
            for (String token : server.accepted) {
                ids.add(jti(token));
            }
            assertThat(ids).as("a new token for every session").hasSize(server.accepted.size());
            assertThat(events.items()).filteredOn(LifecycleEvent.Disconnected.class::isInstance).isNotEmpty();

            // The server does refuse an expired token presented by hand.
            String expired = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).build().sign(Instant.now().minus(Duration.ofHours(1)));
            String answer = TcpClient.create().host("127.0.0.1").port(server.port())
                    .doOnConnected(c -> c.addHandlerLast(new LineBasedFrameDecoder(1024)))
                    .connect()
                    .flatMap(c -> c.outbound().sendString(Mono.just("AUTH " + expired + "\n")).then()
                            .then(c.inbound().receive().asString(StandardCharsets.UTF_8).next())
                            .doFinally(s -> c.dispose()))
                    .block(Duration.ofSeconds(10));
            assertThat(answer).isEqualTo("DENIED expired");
        }
    }

    @Test
    void issuerFailuresShowOnTheLifecycleAndARefusedClientEndsTheConnection() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        JwtSigner issuer = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).lifetime(Duration.ofMinutes(5)).build();
        DisposableServer tokenEndpoint = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r
                        .post("/token", (req, res) -> req.receive().then(Mono.defer(() -> requests.incrementAndGet() <= 4
                                ? res.status(503).sendString(Mono.just("{\"error\":\"temporarily_unavailable\"}")).then()
                                : res.status(200).header("Content-Type", "application/json")
                                        .sendString(Mono.just("{\"access_token\":\"" + issuer.sign(Instant.now()) + "\",\"token_type\":\"Bearer\"}"))
                                        .then())))
                        .post("/denied", (req, res) -> req.receive().then(res.status(401)
                                .sendString(Mono.just("{\"error\":\"invalid_client\"}")).then())))
                .bindNow();
        try (LogCapture logs = new LogCapture();
             TokenCheckingServer server = new TokenCheckingServer(TestKeys.HMAC_SECRET, false)) {
            ClientCredentials.Builder client = ClientCredentials.builder().clientId("c").clientSecret("client-secret-value");
            JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                    .tokenEndpoint(client.tokenUri("http://127.0.0.1:" + tokenEndpoint.port() + "/token").build())
                    .fetchRetries(1).fetchBackoff(Duration.ofMillis(10), Duration.ofMillis(10))
                    .build();
            ResilientConnection<Connection> conn = ResilientConnection.builder(new TokenLineConnector())
                    .endpoint(Endpoint.of("tcp://127.0.0.1:" + server.port())).credentials(tokens).reconnect(FAST).build();
            Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle());
            conn.start();
            events.awaitCount(1, LifecycleEvent.Connected.class::isInstance, Duration.ofSeconds(10));
            // Two attempts found no token (two tries each), and said so; the third got one.
            assertThat(events.items()).filteredOn(LifecycleEvent.RetryScheduled.class::isInstance).hasSize(2)
                    .allSatisfy(e -> assertThat(((LifecycleEvent.RetryScheduled) e).cause())
                            .isInstanceOf(TokenUnavailableException.class).hasMessageContaining("HTTP 503"));
            assertThat(requests.get()).isEqualTo(5);
            assertThat(server.accepted).hasSize(1);
            conn.close().block(Duration.ofSeconds(10));

            JwtCredentialsProvider refused = JwtCredentialsProvider.builder()
                    .tokenEndpoint(client.tokenUri("http://127.0.0.1:" + tokenEndpoint.port() + "/denied").build()).build();
            ResilientConnection<Connection> doomed = ResilientConnection.builder(new TokenLineConnector())
                    .endpoint(Endpoint.of("tcp://127.0.0.1:" + server.port())).credentials(refused).reconnect(FAST).build();
            doomed.start();
            Throwable end = doomed.onClosed().then(Mono.<Throwable>empty()).onErrorResume(Mono::just).block(Duration.ofSeconds(10));
            assertThat(end).isInstanceOf(FatalConnectionException.class).hasMessageContaining("invalid_client")
                    .hasMessageNotContaining("client-secret-value");
            assertThat(server.presented).hasSize(1);

            String signature = server.presented.get(0).substring(server.presented.get(0).lastIndexOf('.') + 1);
            assertThat(logs.texts()).isNotEmpty().noneSatisfy(t -> assertThat(t).containsAnyOf("client-secret-value", signature));
        } finally {
            tokenEndpoint.disposeNow(Duration.ofSeconds(5));
        }
    }
}
