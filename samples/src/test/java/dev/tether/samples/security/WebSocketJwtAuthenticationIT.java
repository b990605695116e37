package dev.tether.samples.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsRequest;
import dev.tether.core.Endpoint;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.core.testing.Await;
import dev.tether.core.testing.Recorder;
import dev.tether.jwt.JwtCredentialsProvider;
import dev.tether.jwt.JwtSigner;
import dev.tether.jwt.JwtVerifier;
import dev.tether.jwt.TokenMapping;
import dev.tether.websocket.BearerAuthenticator;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketUpgradeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A Tether WebSocket server that verifies JWTs on upgrade and closes sessions when their token
 * expires (every 2 s), and a resilient client whose JWT source signs fresh HS256 tokens: the client
 * keeps coming back, and a first upgrade refused with 401 is followed by a refreshed token without
 * any user code.
 */
class WebSocketJwtAuthenticationIT {

    private static final byte[] SECRET = "websocket-e2e-secret-of-at-least-32-bytes".getBytes(StandardCharsets.UTF_8);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void expiringTokensAreVerifiedOnUpgradeAndTheClientComesBackWithFreshOnes() {
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(SECRET).clockSkew(Duration.ZERO).build();
        Set<String> revoked = ConcurrentHashMap.newKeySet();
        BearerAuthenticator<JWTClaimsSet> auth = BearerAuthenticator.<JWTClaimsSet>builder(token -> {
                    JWTClaimsSet claims = verifier.verify(token);
                    if (revoked.contains(claims.getJWTID())) {
                        throw new IllegalArgumentException("token revoked");
                    }
                    return claims;
                })
                .principal(JWTClaimsSet::getSubject)
                .expiresAt(c -> c.getExpirationTime() == null ? null : c.getExpirationTime().toInstant())
                .build();
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/bots")
                .authenticator(auth)
                .credentialsExpiredCloseCode(4401)
                .build();
        List<ServerEvent> serverEvents = new CopyOnWriteArrayList<>();
        server.events().subscribe(serverEvents::add);
        server.start().block(WAIT);

        JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                .selfSigned(JwtSigner.builder().hs256(SECRET).subject("bot-1").lifetime(Duration.ofSeconds(2)).build())
                .refreshSkew(Duration.ofMillis(300))
                .mapping(TokenMapping.secret())
                .build();
        Endpoint endpoint = Endpoint.of("ws://127.0.0.1:" + server.port() + "/bots");
        // The token the provider holds now is revoked on the server (a key rotation, say): the first upgrade gets 401.
        Credentials cached = tokens.credentials(new CredentialsRequest(1, endpoint, false)).block(WAIT);
        revoked.add(jti(cached.secret().orElseThrow()));

        ResilientConnection<WebSocketSession> conn = ResilientConnection.builder(
                        WebSocketClient.builder().verdicts(v -> v.refreshCredentialsOnCloseCodes(4401)).build())
                .endpoint(endpoint)
                .credentials(tokens)
                .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build())
                .build();
        Recorder<LifecycleEvent> events = Recorder.lifecycle(conn.lifecycle());
        List<String> received = new CopyOnWriteArrayList<>();
        Disposable messages = conn.sessions().flatMap(WebSocketSession::receive).map(WebSocketMessage::text).subscribe(received::add);
        Disposable ticker = Flux.interval(Duration.ofMillis(100))
                .flatMap(i -> server.sessions().broadcast(WebSocketMessage.text("tick-" + i)))
                .subscribe();
        try {
            conn.start();
            // three token lifetimes: the server closes each expired session with 4401, the client returns each time
            events.awaitCount(3, e -> e instanceof LifecycleEvent.Connected, Duration.ofSeconds(30));  // back after each expiry
            Await.until(() -> serverEvents.stream().filter(e -> e instanceof ServerEvent.CloseSent s && s.code() == 4401).count() >= 2,
                    Duration.ofSeconds(30), "the server closed expired sessions with 4401");
            int before = received.size();
            Await.until(() -> received.size() > before + 3, WAIT, "messages flow after the expiries");
        } finally {
            ticker.dispose();
            messages.dispose();
            conn.close().block(WAIT);
            events.close();
            server.disposeNow(WAIT);
        }
        // The first upgrade was refused with 401, which asked the provider for a fresh token.
        LifecycleEvent.RetryScheduled firstRetry = events.items().stream().filter(e -> e instanceof LifecycleEvent.RetryScheduled)
                .map(e -> (LifecycleEvent.RetryScheduled) e).findFirst().orElseThrow();
        assertThat(firstRetry.cause()).isInstanceOf(WebSocketUpgradeException.class);
        assertThat(((WebSocketUpgradeException) firstRetry.cause()).status()).isEqualTo(401);
        assertThat(events.items()).anyMatch(e -> e instanceof LifecycleEvent.CredentialsRefreshed);
        assertThat(events.items()).anyMatch(e -> e instanceof LifecycleEvent.CloseReceived c && c.code() == 4401);
        assertThat(tokens.fetchCount()).isGreaterThanOrEqualTo(4);
    }

    private static String jti(String token) {
        try {
            return SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
        } catch (java.text.ParseException e) {
            throw new AssertionError("not a JWT", e);
        }
    }
}
