package dev.tether.jwt;

import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.FailureClassifier;
import dev.tether.core.Verdict;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;

import static org.assertj.core.api.Assertions.assertThat;

/** The client-credentials source against a real OAuth2-style token endpoint on Reactor Netty. */
class TokenEndpointIT {

    private static final String CLIENT_ID = "client-1";
    private static final String CLIENT_SECRET = "s3cret-client-password";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static DisposableServer server;
    private static final JwtSigner ISSUER = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).issuer("https://issuer.test")
            .subject(CLIENT_ID).lifetime(Duration.ofSeconds(10)).build();
    private static final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private static final List<Map<String, String>> forms = new CopyOnWriteArrayList<>();
    private static final List<String> issued = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startTokenEndpoint() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r
                        .post("/token", (req, res) -> withForm(req, res, "/token", (form, count) -> {
                            if (!authenticated(req, form)) {
                                return json(res, 401, "{\"error\":\"invalid_client\",\"error_description\":\"bad client credentials\"}");
                            }
                            return tokenAnswer(res, ISSUER.sign(Instant.now()));
                        }))
                        .post("/flaky", (req, res) -> withForm(req, res, "/flaky", (form, count) -> count <= 2
                                ? json(res, 503, "{\"error\":\"temporarily_unavailable\"}")
                                : tokenAnswer(res, ISSUER.sign(Instant.now()))))
                        .post("/garbage", (req, res) -> withForm(req, res, "/garbage",
                                (form, count) -> res.status(200).header("Content-Type", "text/html").sendString(Mono.just("<html>oops</html>")).then()))
                        .post("/garbage-token", (req, res) -> withForm(req, res, "/garbage-token",
                                (form, count) -> tokenAnswer(res, "not-a-jwt-at-all")))
                        .post("/expired", (req, res) -> withForm(req, res, "/expired",
                                (form, count) -> tokenAnswer(res, ISSUER.sign(Instant.now().minus(Duration.ofMinutes(10))))))
                        .post("/denied", (req, res) -> withForm(req, res, "/denied",
                                (form, count) -> json(res, 401, "{\"error\":\"invalid_client\"}")))
                        .post("/huge", (req, res) -> withForm(req, res, "/huge",
                                (form, count) -> json(res, 200, "{\"access_token\":\"" + "x".repeat(100_000) + "\"}")))
                        .post("/busy", (req, res) -> withForm(req, res, "/busy", (form, count) -> count == 1
                                ? res.status(429).header("Retry-After", "1").sendString(Mono.just("{\"error\":\"slow_down\"}")).then()
                                : tokenAnswer(res, ISSUER.sign(Instant.now()))))
                        .post("/maintenance", (req, res) -> withForm(req, res, "/maintenance",
                                (form, count) -> res.status(503).header("Retry-After", "120").sendString(Mono.just("down")).then()))
                        .post("/silent", (req, res) -> withForm(req, res, "/silent", (form, count) -> Mono.never())))
                .bindNow();
    }

    @AfterAll
    static void stop() {
        server.disposeNow(Duration.ofSeconds(5));
    }

    interface Handler {
        Publisher<Void> handle(Map<String, String> form, int count);
    }

    private static Publisher<Void> withForm(HttpServerRequest req, HttpServerResponse res, String path, Handler handler) {
        return req.receive().aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("").flatMap(body -> {
            Map<String, String> form = new HashMap<>();
            for (String pair : body.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            forms.add(form);
            int count = hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            if (!"client_credentials".equals(form.get("grant_type"))) {
                return Mono.from(json(res, 400, "{\"error\":\"unsupported_grant_type\"}"));
            }
            return Mono.from(handler.handle(form, count));
        });
    }

    private static boolean authenticated(HttpServerRequest req, Map<String, String> form) {
        String auth = req.requestHeaders().get("Authorization");
        if (auth != null && auth.startsWith("Basic ")) {
            String pair = new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8);
            return pair.equals(CLIENT_ID + ":" + CLIENT_SECRET);
        }
        return CLIENT_ID.equals(form.get("client_id")) && CLIENT_SECRET.equals(form.get("client_secret"));
    }

    private static Publisher<Void> tokenAnswer(HttpServerResponse res, String token) {
        issued.add(token);
        return json(res, 200, "{\"access_token\":\"" + token + "\",\"token_type\":\"Bearer\",\"expires_in\":10}");
    }

    private static Publisher<Void> json(HttpServerResponse res, int status, String body) {
        return res.status(status).header("Content-Type", "application/json").sendString(Mono.just(body)).then();
    }

    private static int hitsOf(String path) {
        return hits.computeIfAbsent(path, p -> new AtomicInteger()).get();
    }

    private static ClientCredentials.Builder endpoint(String path) {
        return ClientCredentials.builder().tokenUri("http://127.0.0.1:" + server.port() + path)
                .clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).scope("telemetry:write", "commands:read");
    }

    @Test
    void fetchesShortLivedTokensAndRenewsThemAheadOfExpiry() throws Exception {
        VirtualTimeScheduler clock = VirtualTimeScheduler.create();
        clock.advanceTimeTo(Instant.now());
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder()
                .tokenEndpoint(endpoint("/token").parameter("audience", "broker").build())
                .refreshSkew(Duration.ofSeconds(8)) // tokens live 10 s: renewed 2 s after issue
                .scheduler(clock)
                .build();
        int before = hitsOf("/token");

        String first = provider.token().block(WAIT);
        assertThat(issued).contains(first);
        Map<String, String> form = forms.get(forms.size() - 1);
        assertThat(form).containsEntry("scope", "telemetry:write commands:read").containsEntry("audience", "broker")
                .doesNotContainKey("client_secret");

        clock.advanceTimeBy(Duration.ofMillis(500));
        assertThat(provider.token().block(WAIT)).isEqualTo(first);
        assertThat(hitsOf("/token")).isEqualTo(before + 1);

        clock.advanceTimeBy(Duration.ofSeconds(2));
        String second = provider.token().block(WAIT);
        assertThat(second).isNotEqualTo(first);
        assertThat(SignedJWT.parse(second).getJWTClaimsSet().getJWTID()).isNotEqualTo(SignedJWT.parse(first).getJWTClaimsSet().getJWTID());
        assertThat(hitsOf("/token")).isEqualTo(before + 2);

        String third = provider.refreshedToken().block(WAIT);
        assertThat(third).isNotIn(first, second);
        assertThat(hitsOf("/token")).isEqualTo(before + 3);
        clock.dispose();
    }

    @Test
    void clientSecretPostSendsTheCredentialsInTheForm() {
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder()
                .tokenEndpoint(endpoint("/token").authentication(ClientCredentials.Authentication.CLIENT_SECRET_POST).build())
                .build();
        StepVerifier.create(provider.token()).assertNext(t -> assertThat(issued).contains(t)).verifyComplete();
        assertThat(forms.get(forms.size() - 1)).containsEntry("client_id", CLIENT_ID).containsEntry("client_secret", CLIENT_SECRET);
    }

    @Test
    void transientFailuresAreRetriedWithBackoff() {
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder()
                .tokenEndpoint(endpoint("/flaky").build())
                .fetchBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .build();
        StepVerifier.create(provider.token())
                .assertNext(t -> assertThat(issued).contains(t))
                .expectComplete()
                .verify(WAIT);
        assertThat(hitsOf("/flaky")).isEqualTo(3);
    }

    @Test
    void garbageAnswersAreRetriedThenRefusedClearly() {
        JwtCredentialsProvider garbage = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/garbage").build())
                .fetchRetries(1).fetchBackoff(Duration.ofMillis(20), Duration.ofMillis(20)).build();
        StepVerifier.create(garbage.token())
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(TokenUnavailableException.class)
                        .hasMessageContaining("/garbage").hasMessageContaining("HTTP 200 with a body that is not a JSON object")
                        .hasMessageContaining("2 tries"))
                .verify(WAIT);
        assertThat(hitsOf("/garbage")).isEqualTo(2);

        JwtCredentialsProvider notJwt = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/garbage-token").build())
                .fetchRetries(0).build();
        StepVerifier.create(notJwt.token())
                .expectErrorSatisfies(e -> assertThat(((TokenUnavailableException) e).tokenProblem())
                        .contains(InvalidJwtException.Reason.MALFORMED))
                .verify(WAIT);
    }

    @Test
    void expiredTokensAreNeverHandedOut() {
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/expired").build())
                .fetchRetries(0).build();
        StepVerifier.create(provider.token())
                .expectErrorSatisfies(e -> {
                    assertThat(e).hasMessageContaining("EXPIRED").hasMessageContaining("must not be presented");
                    assertThat(((TokenUnavailableException) e).tokenProblem()).contains(InvalidJwtException.Reason.EXPIRED);
                    String token = issued.get(issued.size() - 1);
                    assertThat(e.getMessage()).doesNotContain(token);
                    assertThat(e.getCause().getMessage()).doesNotContain(token);
                })
                .verify(WAIT);
    }

    @Test
    void aRefusedClientFailsAtOnceAndFatally() {
        int before = hitsOf("/denied");
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/denied").build()).build();
        StepVerifier.create(provider.token())
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(TokenUnavailableException.class).hasMessageContaining("HTTP 401")
                            .hasMessageContaining("invalid_client").hasMessageContaining("check the client id")
                            .hasMessageNotContaining(CLIENT_SECRET);
                    assertThat(((TokenUnavailableException) e).code()).hasValue(401);
                    assertThat(FailureClassifier.defaults().classify(e))
                            .hasValueSatisfying(v -> assertThat(v.kind()).isEqualTo(Verdict.Kind.FATAL));
                })
                .verify(WAIT);
        assertThat(hitsOf("/denied")).isEqualTo(before + 1);

        // Wrong secret on the real endpoint: same story.
        JwtCredentialsProvider wrong = JwtCredentialsProvider.builder()
                .tokenEndpoint(endpoint("/token").clientSecret("wrong-secret").build()).build();
        StepVerifier.create(wrong.token())
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("HTTP 401").hasMessageNotContaining("wrong-secret"))
                .verify(WAIT);
    }

    @Test
    void oversizedAndSilentAnswersAreBounded() {
        JwtCredentialsProvider huge = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/huge").build())
                .fetchRetries(0).build();
        StepVerifier.create(huge.token())
                .expectErrorSatisfies(e -> assertThat(e).hasMessageContaining("more than " + ClientCredentials.DEFAULT_MAX_RESPONSE_BYTES))
                .verify(WAIT);

        JwtCredentialsProvider silent = JwtCredentialsProvider.builder()
                .tokenEndpoint(endpoint("/silent").timeout(Duration.ofMillis(300)).build())
                .fetchRetries(1).fetchBackoff(Duration.ofMillis(20), Duration.ofMillis(20)).build();
        StepVerifier.create(silent.token())
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(TokenUnavailableException.class)
                        .hasMessageContaining("/silent").hasMessageContaining("2 tries"))
                .verify(WAIT);
        assertThat(hitsOf("/silent")).isEqualTo(2);
    }

    @Test
    void configurationHidesTheClientSecret() {
        ClientCredentials config = endpoint("/token").build();
        assertThat(config.toString()).contains(CLIENT_ID).doesNotContain(CLIENT_SECRET);
        assertThat(config.toBuilder().build()).isEqualTo(config).hasSameHashCodeAs(config);
        assertThat(config.toBuilder().scope("other").build()).isNotEqualTo(config);
        assertThat(config.toBuilder().clientSecret("another").build()).isNotEqualTo(config);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ClientCredentials.builder().tokenUri("ftp://x/token")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokenUri").hasMessageContaining("ftp://x/token");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ClientCredentials.builder().tokenUri("http://127.0.0.1/t").build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clientId");
    }

    @Test
    void retryAfterIsHonouredOrHandedToTheConnection() {
        JwtCredentialsProvider busy = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/busy").build())
                .fetchBackoff(Duration.ofMillis(10), Duration.ofSeconds(2)).build();
        long start = System.nanoTime();
        StepVerifier.create(busy.token()).assertNext(t -> assertThat(issued).contains(t)).expectComplete().verify(WAIT);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for Retry-After: 1").isGreaterThanOrEqualTo(Duration.ofMillis(950));
        assertThat(hitsOf("/busy")).isEqualTo(2);

        // Longer than the provider's own backoff: no retry here; the connection is told to wait.
        JwtCredentialsProvider maintenance = JwtCredentialsProvider.builder().tokenEndpoint(endpoint("/maintenance").build())
                .fetchBackoff(Duration.ofMillis(10), Duration.ofSeconds(2)).build();
        StepVerifier.create(maintenance.token())
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(TokenUnavailableException.class).hasMessageContaining("HTTP 503")
                            .hasMessageContaining("wait 120 s").hasMessageContaining("1 try");
                    Verdict verdict = FailureClassifier.defaults().classify(e).orElseThrow();
                    assertThat(verdict.kind()).isEqualTo(Verdict.Kind.RETRY);
                    assertThat(verdict.minimumDelay()).isEqualTo(Duration.ofSeconds(120));
                })
                .verify(WAIT);
        assertThat(hitsOf("/maintenance")).isEqualTo(1);
    }
}
