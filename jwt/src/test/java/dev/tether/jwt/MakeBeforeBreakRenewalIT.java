package dev.tether.jwt;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.tether.core.Endpoint;
import dev.tether.testkit.AuthorizationServer;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.ResilientConnection;
import dev.tether.websocket.Authenticator;
import dev.tether.websocket.BearerAuthenticator;
import dev.tether.websocket.MakeBeforeBreakWebSocket;
import dev.tether.websocket.ServerEvent;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketMessage;
import dev.tether.websocket.WebSocketServer;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * WebSocket make-before-break renewal with tokens from a real authorization server (4 s lifetime),
 * against a Tether WebSocket server that verifies them through the provider's key set and closes a
 * session with 4401 when its token expires: over ten token lifetimes no session is closed for
 * expiry, and a 10 ms tick stream broadcast by the server shows no missing tick and no gap at the
 * application.
 */
class MakeBeforeBreakRenewalIT {

    private static final Duration LIFETIME = Duration.ofSeconds(4);
    private static final Duration MARGIN = Duration.ofMillis(2000);
    private static final Duration OVERLAP = Duration.ofMillis(300);
    private static final int LIFETIMES = 10;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void renewsMakeBeforeBreakWithoutAnExpiryCloseOrAGapInTheStream() throws Exception {
        try (AuthorizationServer as = new AuthorizationServer(LIFETIME)) {
            run(as);
        }
    }

    private static long largestGap(Map<Long, Long> times, long first, long last) {
        long max = 0;
        for (long n = first + 1; n <= last; n++) {
            Long a = times.get(n - 1);
            Long b = times.get(n);
            if (a != null && b != null) {
                max = Math.max(max, b - a);
            }
        }
        return max;
    }

    private void run(AuthorizationServer as) throws Exception {
        JwtVerifier verifier = JwtVerifier.builder().issuerUri(as.issuer()).clockSkew(Duration.ZERO).build();
        BearerAuthenticator<JWTClaimsSet> bearer = BearerAuthenticator.builder(verifier::verify)
                .principal(JWTClaimsSet::getSubject)
                .expiresAt(c -> c.getExpirationTime() == null ? null : c.getExpirationTime().toInstant())
                .build();
        // A key-set fetch may block: keep it off the event loop.
        Authenticator offloaded = request -> bearer.authenticate(request).subscribeOn(Schedulers.boundedElastic());
        WebSocketServer server = WebSocketServer.builder().host("127.0.0.1").port(0).path("/ws").authenticator(offloaded)
                .credentialsExpiredCloseCode(4401).build();
        List<ServerEvent> serverEvents = new CopyOnWriteArrayList<>();
        server.events().subscribe(serverEvents::add);
        server.start().block(WAIT);

        JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
                .tokenEndpoint(ClientCredentials.builder().tokenUri(as.tokenUri()).clientId(AuthorizationServer.BASIC_CLIENT)
                        .clientSecret(AuthorizationServer.BASIC_SECRET).build())
                .refreshSkew(Duration.ofMillis(200))
                .build();
        // Warm up the authorization server and the verifier's key set (a cold start takes seconds, a token lives 3).
        for (int i = 0; i < 3; i++) {
            verifier.verify(JwtCredentialsProvider.builder().tokenEndpoint(ClientCredentials.builder().tokenUri(as.tokenUri())
                    .clientId(AuthorizationServer.BASIC_CLIENT).clientSecret(AuthorizationServer.BASIC_SECRET).build())
                    .build().token().block(WAIT));
        }
        TokenRenewal renewal = TokenRenewal.builder(tokens).margin(MARGIN).build();
        WebSocketClient client = WebSocketClient.builder().verdicts(v -> v.refreshCredentialsOnCloseCodes(4401)).build();
        MakeBeforeBreakWebSocket ws = MakeBeforeBreakWebSocket.builder(() -> ResilientConnection.builder(client)
                        .endpoint(Endpoint.of("ws://127.0.0.1:" + server.port() + "/ws"))
                        .credentials(renewal)
                        .reconnect(ReconnectPolicy.builder().initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(200)).build())
                        .build())
                .overlap(OVERLAP)
                .build();
        renewal.start(ws::renew, null);
        List<LifecycleEvent> events = new CopyOnWriteArrayList<>();
        ws.lifecycle().subscribe(events::add);
        Map<Long, Long> firstArrival = new ConcurrentHashMap<>();
        List<Long> duplicates = new CopyOnWriteArrayList<>();
        ws.receive().subscribe(m -> {
            long n = Long.parseLong(m.text());
            if (firstArrival.putIfAbsent(n, System.currentTimeMillis()) != null) {
                duplicates.add(n);
            }
        });
        Map<Long, Long> emitted = new ConcurrentHashMap<>();
        Disposable ticking = null;
        try {
            ws.start();
            ws.current().awaitConnected(WAIT).block(WAIT);
            ticking = Flux.interval(Duration.ofMillis(10)).take(Duration.ofMinutes(2))
                    // one broadcast does not wait for the previous one (a closing session must not hold the ticks up)
                    .doOnNext(i -> emitted.put(i, System.currentTimeMillis()))
                    .flatMap(i -> server.sessions().broadcast(WebSocketMessage.text(Long.toString(i))), 256)
                    .subscribe();
            List<TokenRenewal.Renewal> done = new CopyOnWriteArrayList<>();
            renewal.renewals().subscribe(done::add);
            long deadline = System.nanoTime() + LIFETIME.multipliedBy(LIFETIMES + 5).toNanos();
            while (done.size() < LIFETIMES && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
            }
            ticking.dispose();

            // Gaps between consecutive ticks as first seen by the application, from the first tick received on.
            List<Long> seen = new ArrayList<>(firstArrival.keySet());
            Collections.sort(seen);
            long first = seen.get(0);
            long last = seen.get(seen.size() - 1);
            long missing = (last - first + 1) - seen.size();
            long maxGap = largestGap(firstArrival, first, last);
            // The ticker's own irregularity on this machine: the floor under any gap measured at the application.
            long tickerGap = largestGap(emitted, first, last);
            long expiryCloses = serverEvents.stream().filter(e -> e instanceof ServerEvent.CloseSent c && c.code() == 4401).count();
            System.out.printf("WebSocket make-before-break: %d renewals (token lifetime %s, margin %s), %d ticks, %d missing, "
                    + "%d duplicates during overlaps (%s each), largest gap between consecutive ticks at the application %d ms "
                    + "(at the server's ticker %d ms), expiry closes %d%n", done.size(), LIFETIME, MARGIN, seen.size(), missing,
                    duplicates.size(), OVERLAP, maxGap, tickerGap, expiryCloses);

            assertThat(done).hasSizeGreaterThanOrEqualTo(LIFETIMES)
                    .allSatisfy(r -> assertThat(r.outcome()).isEqualTo(TokenRenewal.Outcome.RENEWED));
            assertThat(expiryCloses).as("the server never closed a session for an expired token").isZero();
            assertThat(seen).hasSizeGreaterThan(LIFETIMES * 50);
            assertThat(missing).as("no tick lost across the renewals").isZero();
            assertThat(events).filteredOn(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals(MakeBeforeBreakWebSocket.RENEWED_NOTICE))
                    .as("each renewal is a lifecycle event").hasSizeGreaterThanOrEqualTo(LIFETIMES);
            assertThat(ws.renewals()).isGreaterThanOrEqualTo(LIFETIMES);
            assertThat(maxGap).as("no stall in the stream").isLessThan(1000);
        } finally {
            if (ticking != null) {
                ticking.dispose();
            }
            renewal.dispose();
            ws.close().block(WAIT);
            server.disposeNow(WAIT);
        }
    }
}
