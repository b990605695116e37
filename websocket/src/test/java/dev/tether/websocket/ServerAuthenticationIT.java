package dev.tether.websocket;

import dev.tether.core.testing.TestAttempt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Authentication on upgrade, against the project's client and plain sockets. */
class ServerAuthenticationIT {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String KEY = "test-signing-key-0123456789";

    private final HmacTokens tokens = new HmacTokens(KEY);
    private WebSocketServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow(WAIT);
        }
    }

    private BearerAuthenticator<HmacTokens.Claims> bearer() {
        return BearerAuthenticator.builder(tokens::verify)
                .principal(HmacTokens.Claims::subject)
                .expiresAt(HmacTokens.Claims::expiresAt)
                .attributes(c -> Map.of("tenant", "acme"))
                .require(c -> !c.subject().startsWith("guest"), "guests may not open sessions")
                .build();
    }

    private WebSocketServer start(WebSocketServer.Builder b) {
        server = b.host("127.0.0.1").port(0).path("/ws").build();
        server.start().block(WAIT);
        return server;
    }

    private String uri() {
        return "ws://127.0.0.1:" + server.port() + "/ws";
    }

    private WebSocketSession open(Credentials credentials) {
        return WebSocketClient.builder().build().connect(new TestAttempt(Endpoint.of(uri()), credentials))
                .map(EstablishedSession::session).block(WAIT);
    }

    private WebSocketUpgradeException refusal(Credentials credentials) {
        return WebSocketClient.builder().build().connect(new TestAttempt(Endpoint.of(uri()), credentials))
                .map(x -> (Throwable) new AssertionError("the upgrade was accepted"))
                .onErrorResume(Mono::just)
                .map(t -> {
                    assertThat(t).isInstanceOf(WebSocketUpgradeException.class);
                    return (WebSocketUpgradeException) t;
                })
                .block(WAIT);
    }

    static void awaitSessions(WebSocketServer server, int n) {
        Flux.interval(Duration.ofMillis(10)).filter(i -> server.sessions().count() == n).next().block(WAIT);
    }

    @Test
    void aValidBearerTokenOpensASessionThatCarriesThePrincipalAttributesAndExpiry() {
        start(WebSocketServer.builder().authenticator(bearer()));
        Instant exp = Instant.now().plusSeconds(60);
        WebSocketSession client = open(Credentials.token(tokens.issue("bot-7", exp)));
        awaitSessions(server, 1);
        WebSocketSession onServer = server.sessions().all().iterator().next();
        assertThat(onServer.principal()).contains("bot-7");
        assertThat(onServer.attributes()).containsEntry("tenant", "acme");
        assertThat(onServer.credentialsExpireAt()).contains(Instant.ofEpochMilli(exp.toEpochMilli()));
        assertThat(client.principal()).isEmpty();
        client.close(1000, "").block(WAIT);
    }

    @Test
    void missingBadAndForbiddenTokensAreRefusedBeforeTheUpgradeWithoutEchoingTheToken() throws Exception {
        start(WebSocketServer.builder().authenticator(bearer()));
        assertThat(refusal(Credentials.none()).status()).isEqualTo(401);
        String forged = tokens.issue("bot-7", Instant.now().plusSeconds(60)).replace('.', 'x') + ".AAAA";
        assertThat(refusal(Credentials.token(forged)).status()).isEqualTo(401);
        assertThat(refusal(Credentials.token(tokens.issue("guest-1", Instant.now().plusSeconds(60)))).status()).isEqualTo(403);

        String missing = RawHttp.exchange(server.port(), RawHttp.upgrade(server.port(), "/ws", ""));
        assertThat(missing).startsWith("HTTP/1.1 401").containsIgnoringCase("WWW-Authenticate: Bearer realm=\"tether\"")
                .contains("missing bearer token").doesNotContain("101");
        String bad = RawHttp.exchange(server.port(), RawHttp.upgrade(server.port(), "/ws", "Authorization: Bearer " + forged + "\r\n"));
        assertThat(bad).startsWith("HTTP/1.1 401").contains("error=\"invalid_token\"").contains("invalid bearer token: bad signature on ****")
                .doesNotContain(forged).doesNotContain(KEY);
        String expired = RawHttp.exchange(server.port(), RawHttp.upgrade(server.port(), "/ws",
                "Authorization: Bearer " + tokens.issue("bot-7", Instant.now().minusSeconds(5)) + "\r\n"));
        assertThat(expired).startsWith("HTTP/1.1 401").contains("invalid bearer token: expired at");
        assertThat(server.sessions().count()).isZero();
        // refused connections give their admission back once their TCP connection is closed
        Flux.interval(Duration.ofMillis(10)).filter(i -> server.stats().admitted() == 0).next().block(WAIT);
    }

    @Test
    void theAuthenticatorSeesPathHeadersQueryAndRemoteAddressAndTheClientSendsHeaderAndQueryAttributes() {
        AtomicReference<UpgradeRequest> seen = new AtomicReference<>();
        start(WebSocketServer.builder().authenticator(r -> {
            seen.set(r);
            return Mono.just(r.header("x-api-key").filter("k-123"::equals).isPresent()
                    ? AuthDecision.accept("api-client") : AuthDecision.forbidden("wrong api key"));
        }));
        Credentials creds = Credentials.token("tok-abc").withHeader("X-Api-Key", "k-123").withQueryParameter("room", "a b");
        WebSocketSession s = open(creds);
        awaitSessions(server, 1);
        UpgradeRequest r = seen.get();
        assertThat(r.path()).isEqualTo("/ws");
        assertThat(r.header("Authorization")).contains("Bearer tok-abc");
        assertThat(r.header("X-API-KEY")).contains("k-123");
        assertThat(r.queryParameter("room")).contains("a b");
        assertThat(r.remoteAddress().getAddress().isLoopbackAddress()).isTrue();
        assertThat(r.toString()).doesNotContain("tok-abc").doesNotContain("k-123");
        assertThat(server.sessions().all().iterator().next().principal()).contains("api-client");
        s.close(1000, "").block(WAIT);

        Credentials explicit = Credentials.token("ignored").withHeader("Authorization", "Custom xyz").withHeader("X-Api-Key", "k-123");
        open(explicit).close(1000, "").block(WAIT);
        assertThat(seen.get().header("Authorization")).contains("Custom xyz");
        assertThat(refusal(Credentials.token("t")).status()).isEqualTo(403);
    }

    @Test
    void aFailingAuthenticatorRefusesWith500AndNoSession() {
        start(WebSocketServer.builder().authenticator(r -> Mono.error(new IllegalStateException("key store down"))));
        assertThat(refusal(Credentials.none()).status()).isEqualTo(500);
        Flux.interval(Duration.ofMillis(10)).filter(i -> server.stats().admitted() == 0).next().block(WAIT);
        assertThat(server.sessions().count()).isZero();
    }

    @Test
    void aSessionWhoseCredentialsExpireIsClosedWithTheConfiguredCode() {
        start(WebSocketServer.builder().authenticator(bearer()).credentialsExpiredCloseCode(4401));
        WebSocketSession client = open(Credentials.token(tokens.issue("bot-7", Instant.now().plusMillis(700))));
        CloseSummary summary = client.closed().block(WAIT);
        assertThat(summary.codeReceived()).isEqualTo(4401);
        assertThat(summary.reasonReceived()).isEqualTo("credentials expired");
        assertThat(summary.clean()).isTrue();
    }

    @Test
    void theResilientClientIsRefusedWith401ThenComesBackWithARefreshedTokenAndAgainAfterEachExpiry() {
        start(WebSocketServer.builder().authenticator(bearer()).credentialsExpiredCloseCode(4401));
        AtomicInteger issued = new AtomicInteger();
        List<Boolean> refreshFlags = new CopyOnWriteArrayList<>();
        CredentialsProvider provider = request -> Mono.fromSupplier(() -> {
            refreshFlags.add(request.refresh());
            int n = issued.incrementAndGet();
            // the first token is already expired: the server refuses the upgrade with 401
            Instant exp = n == 1 ? Instant.now().minusSeconds(1) : Instant.now().plusMillis(800);
            return Credentials.token(tokens.issue("bot-" + n, exp));
        });
        WebSocketClient client = WebSocketClient.builder().verdicts(v -> v.refreshCredentialsOnCloseCodes(4401)).build();
        ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(client)
                .endpoint(Endpoint.of(uri()))
                .credentials(provider)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(200)).build())
                .build();
        List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
        conn.lifecycle().subscribe(events::add);
        try {
            conn.start();
            // three connected generations: each ended by the server's 4401 at expiry, each followed by a fresh token
            conn.lifecycle().filter(e -> e instanceof LifecycleEvent.Connected).take(3).then().block(Duration.ofSeconds(20));
            assertThat(refreshFlags.get(0)).isFalse();
            assertThat(refreshFlags.get(1)).as("the 401 asked for fresh credentials").isTrue();
            assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOf(LifecycleEvent.CloseReceived.class)
                    .extracting(x -> ((LifecycleEvent.CloseReceived) x).code()).isEqualTo(4401));
        } finally {
            conn.close().block(WAIT);
        }
    }

    @Test
    void upgradeRequestAndRefusalValidateTheirInput() {
        UpgradeRequest r = UpgradeRequest.of("/p?a=1&a=2", Map.of("X-One", List.of("v")), new InetSocketAddress("127.0.0.1", 5), List.of());
        assertThat(r.queryParameters().get("a")).containsExactly("1", "2");
        assertThat(r.header("x-one")).contains("v");
        assertThatThrownBy(() -> new AuthDecision.Refused(500, "x", null)).hasMessageContaining("status").hasMessageContaining("500");
        assertThat(AuthDecision.unauthorized("a\r\nSet-Cookie: x").reason()).doesNotContain("\n");
        assertThatThrownBy(() -> WebSocketServer.builder().credentialsExpiredCloseCode(1006))
                .hasMessageContaining("credentialsExpiredCloseCode").hasMessageContaining("1006");
        assertThatThrownBy(() -> BearerAuthenticator.builder(t -> t).realm("a\"b")).hasMessageContaining("realm");
    }
}
