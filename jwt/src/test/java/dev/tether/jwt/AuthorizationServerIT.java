package dev.tether.jwt;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Endpoint;
import dev.tether.testkit.AuthorizationServer;
import dev.tether.core.FailureClassifier;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.Verdict;
import dev.tether.websocket.Authenticator;
import dev.tether.websocket.BearerAuthenticator;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tether's token source and verifier against a real OAuth2 authorization server (Spring
 * Authorization Server): client-credentials tokens with both client authentication methods, a
 * Tether WebSocket server that verifies them through the published key set, a key rotation followed
 * without refusing a good token, and the token endpoint's errors.
 */
class AuthorizationServerIT {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static AuthorizationServer as;
    /** A small real HTTP server in front of the authorization server that misbehaves on purpose. */
    private static DisposableServer front;
    private static final Map<String, AtomicInteger> frontHits = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() {
        as = new AuthorizationServer(Duration.ofMinutes(5));
        HttpClient toAs = HttpClient.create();
        front = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r
                        // 1st request: 500; 2nd: no answer at all; 3rd and later: the real token endpoint.
                        .post("/flaky/token", (req, res) -> {
                            int n = frontHits.computeIfAbsent("/flaky/token", k -> new AtomicInteger()).incrementAndGet();
                            if (n == 1) {
                                return res.status(500).sendString(Mono.just("{\"error\":\"server_error\"}"));
                            }
                            if (n == 2) {
                                return Mono.never();
                            }
                            String authorization = req.requestHeaders().get("Authorization");
                            return req.receive().aggregate().asString().defaultIfEmpty("")
                                    .flatMap(body -> toAs.headers(h -> {
                                                h.set("Content-Type", "application/x-www-form-urlencoded");
                                                if (authorization != null) {
                                                    h.set("Authorization", authorization);
                                                }
                                            })
                                            .post().uri(as.tokenUri()).send(ByteBufFlux.fromString(Mono.just(body)))
                                            .responseSingle((r2, b2) -> b2.asString().map(s -> Map.entry(r2.status().code(), s))))
                                    .flatMap(answer -> res.status(answer.getKey()).header("Content-Type", "application/json")
                                            .sendString(Mono.just(answer.getValue())).then());
                        })
                        .post("/no-token/token", (req, res) -> res.status(200).header("Content-Type", "application/json")
                                .sendString(Mono.just("{\"token_type\":\"Bearer\",\"expires_in\":300}")))
                        .post("/number-token/token", (req, res) -> res.status(200).header("Content-Type", "application/json")
                                .sendString(Mono.just("{\"access_token\":42,\"token_type\":\"Bearer\"}"))))
                .bindNow();
    }

    @AfterAll
    static void stop() {
        if (front != null) {
            front.disposeNow(Duration.ofSeconds(5));
        }
        if (as != null) {
            as.close();
        }
    }

    private static ClientCredentials.Builder basicClient() {
        return ClientCredentials.builder().tokenUri(as.tokenUri()).clientId(AuthorizationServer.BASIC_CLIENT)
                .clientSecret(AuthorizationServer.BASIC_SECRET).scope(AuthorizationServer.SCOPE);
    }

    private static ClientCredentials.Builder postClient() {
        return ClientCredentials.builder().tokenUri(as.tokenUri()).clientId(AuthorizationServer.POST_CLIENT)
                .clientSecret(AuthorizationServer.POST_SECRET).scope(AuthorizationServer.SCOPE)
                .authentication(ClientCredentials.Authentication.CLIENT_SECRET_POST);
    }

    private static JwtVerifier verifier() {
        return JwtVerifier.builder().issuerUri(as.issuer())
                .audience(AuthorizationServer.BASIC_CLIENT, AuthorizationServer.POST_CLIENT).build();
    }

    @Test
    void tokensComeWithBothClientAuthenticationMethodsAndVerifyThroughTheDiscoveredKeySet() throws Exception {
        JwtVerifier verifier = verifier();
        JwtCredentialsProvider basic = JwtCredentialsProvider.builder().tokenEndpoint(basicClient().build()).verifier(verifier).build();
        JwtCredentialsProvider post = JwtCredentialsProvider.builder().tokenEndpoint(postClient().build()).verifier(verifier).build();

        String basicToken = basic.token().block(WAIT);
        String postToken = post.token().block(WAIT);

        JWTClaimsSet b = verifier.verify(basicToken);
        assertThat(b.getSubject()).isEqualTo(AuthorizationServer.BASIC_CLIENT);
        assertThat(b.getIssuer()).isEqualTo(as.issuer());
        assertThat(b.getStringListClaim("scope")).containsExactly(AuthorizationServer.SCOPE);
        assertThat(SignedJWT.parse(basicToken).getHeader().getKeyID()).isEqualTo(as.activeKeyId());
        assertThat(verifier.verify(postToken).getSubject()).isEqualTo(AuthorizationServer.POST_CLIENT);

        // The same client with the other method is refused by the server: the methods are really distinct.
        JwtCredentialsProvider wrongMethod = JwtCredentialsProvider.builder()
                .tokenEndpoint(basicClient().authentication(ClientCredentials.Authentication.CLIENT_SECRET_POST).build()).build();
        Throwable refused = Mono.from(wrongMethod.token()).map(t -> (Throwable) null).onErrorResume(Mono::just).block(WAIT);
        assertThat(refused).hasMessageContaining("invalid_client");
        for (Throwable t = refused; t != null; t = t.getCause()) {
            assertThat(t.getClass().getPackageName()).as("no internal type in the cause chain of %s", refused)
                    .doesNotContain(".internal");
        }
    }

    @Test
    void aTetherWebSocketServerVerifiesTheTokensAndFollowsAKeyRotationWithoutRefusingAGoodToken() throws Exception {
        JwtVerifier verifier = verifier();
        BearerAuthenticator<JWTClaimsSet> bearer = BearerAuthenticator.builder(verifier::verify)
                .principal(JWTClaimsSet::getSubject)
                .build();
        // A key-set fetch may block: keep it off the event loop.
        Authenticator offloaded = request -> bearer.authenticate(request).subscribeOn(Schedulers.boundedElastic());
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").authenticator(offloaded).build();
        server.start().block(WAIT);
        List<ResilientConnection<WebSocketSession>> connections = new ArrayList<>();
        try {
            int jwkSetBefore = as.jwkSetRequests();
            String firstKey = as.activeKeyId();
            // Before the rotation: a client of each kind.
            connections.add(connect(server, basicClient().build()));
            connections.add(connect(server, postClient().build()));
            awaitSessions(server, 2);
            assertThat(server.sessions().all()).extracting(s -> s.principal().orElse("?"))
                    .containsExactlyInAnyOrder(AuthorizationServer.BASIC_CLIENT, AuthorizationServer.POST_CLIENT);

            // The provider publishes a new key and signs with it; the old key stays published.
            String secondKey = as.rotate();
            assertThat(as.publishedKeyIds()).containsExactly(firstKey, secondKey);
            connections.add(connect(server, basicClient().build()));
            connections.add(connect(server, postClient().build()));
            awaitSessions(server, 4);

            // New tokens carry the new key.
            String newToken = JwtCredentialsProvider.builder().tokenEndpoint(basicClient().build()).build().token().block(WAIT);
            assertThat(SignedJWT.parse(newToken).getHeader().getKeyID()).isEqualTo(secondKey);

            // The old key's grace period ends at the provider; tokens with the new key keep working.
            as.retire(firstKey);
            connections.add(connect(server, postClient().build()));
            awaitSessions(server, 5);
            assertThat(connections).allSatisfy(c -> assertThat(c.generation()).as("connected at the first attempt").isEqualTo(1));

            assertThat(server.stats().refused()).as("no good token was refused").isZero();
            assertThat(as.jwkSetRequests() - jwkSetBefore).as("one fetch, then one refresh for the new key").isEqualTo(2);
        } finally {
            for (ResilientConnection<WebSocketSession> c : connections) {
                c.close().block(WAIT);
            }
            server.disposeNow(WAIT);
        }
    }

    private static ResilientConnection<WebSocketSession> connect(WebSocketServer server, ClientCredentials client) {
        JwtCredentialsProvider tokens = JwtCredentialsProvider.builder().tokenEndpoint(client).build();
        ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(WebSocketClient.builder().build())
                .endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws"))
                .credentials(tokens)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .build();
        conn.start();
        conn.awaitConnected(WAIT).block(WAIT);
        return conn;
    }

    private static void awaitSessions(WebSocketServer server, int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (server.sessions().count() < n && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }
        assertThat(server.sessions().count()).isEqualTo(n);
    }

    @Test
    void invalidClientIsFatalAndNamesTheClientButNeverTheSecret() {
        String wrongSecret = "not-the-secret-but-still-secret-91c2";
        ClientCredentials config = basicClient().clientSecret(wrongSecret).build();
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().tokenEndpoint(config).build();
        Throwable e = provider.token().map(t -> (Throwable) null).onErrorResume(Mono::just).block(WAIT);
        assertThat(e).isInstanceOf(TokenUnavailableException.class)
                .hasMessageContaining(AuthorizationServer.BASIC_CLIENT)
                .hasMessageContaining("invalid_client")
                .hasMessageContaining("HTTP 401");
        assertThat(e.getMessage()).doesNotContain(wrongSecret).doesNotContain(AuthorizationServer.BASIC_SECRET);
        assertThat(e.toString()).doesNotContain(wrongSecret);
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).doesNotContain(wrongSecret);
        }
        assertThat(config.toString()).contains(AuthorizationServer.BASIC_CLIENT).doesNotContain(wrongSecret);
        assertThat(provider.toString()).doesNotContain(wrongSecret);
        Verdict verdict = FailureClassifier.defaults().classify(e).orElseThrow();
        assertThat(verdict.kind()).isEqualTo(Verdict.Kind.FATAL);
        assertThat(provider.fetchCount()).as("not retried").isEqualTo(1);
    }

    @Test
    void serverErrorsAndTimeoutsAreRetriedUntilTheRealEndpointAnswers() throws Exception {
        ClientCredentials flaky = basicClient().tokenUri("http://127.0.0.1:" + front.port() + "/flaky/token")
                .timeout(Duration.ofSeconds(2)).build();
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().tokenEndpoint(flaky)
                .fetchTimeout(Duration.ofSeconds(3)).fetchRetries(4).fetchBackoff(Duration.ofMillis(20), Duration.ofMillis(100)).build();
        String token = provider.token().block(WAIT);
        // 500, then a timeout, then the token (one more try if the real endpoint was slower than the timeout)
        assertThat(frontHits.get("/flaky/token").get()).isBetween(3, 4);
        assertThat(verifier().verify(token).getSubject()).isEqualTo(AuthorizationServer.BASIC_CLIENT);
    }

    @Test
    void aMalformedAnswerNamesTheField() {
        for (String path : List.of("/no-token/token", "/number-token/token")) {
            JwtCredentialsProvider provider = JwtCredentialsProvider.builder()
                    .tokenEndpoint(basicClient().tokenUri("http://127.0.0.1:" + front.port() + path).build())
                    .fetchRetries(0).build();
            Throwable e = provider.token().map(t -> (Throwable) null).onErrorResume(Mono::just).block(WAIT);
            assertThat(e).isInstanceOf(TokenUnavailableException.class).hasMessageContaining("access_token")
                    .hasMessageContaining(path);
        }
    }
}
