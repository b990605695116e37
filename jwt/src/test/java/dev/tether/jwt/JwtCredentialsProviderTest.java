package dev.tether.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsRequest;
import dev.tether.core.Endpoint;
import dev.tether.core.FailureClassifier;
import dev.tether.core.Verdict;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The provider's caching, refresh, single flight, retries and checks, all in virtual time. */
class JwtCredentialsProviderTest {

    private static final Instant START = Instant.parse("2026-03-01T12:00:00Z");
    private static final Endpoint ENDPOINT = Endpoint.of("tcp://127.0.0.1:1883");
    private static final CredentialsRequest NORMAL = new CredentialsRequest(1, ENDPOINT, false);
    private static final CredentialsRequest REFRESH = new CredentialsRequest(2, ENDPOINT, true);

    private VirtualTimeScheduler vts;
    private final JwtSigner signer = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).subject("device-1")
            .lifetime(Duration.ofSeconds(60)).build();

    @BeforeEach
    void virtualClock() {
        vts = VirtualTimeScheduler.create();
        vts.advanceTimeTo(START);
    }

    private Instant now() {
        return Instant.ofEpochMilli(vts.now(TimeUnit.MILLISECONDS));
    }

    private JwtCredentialsProvider.Builder selfSigned() {
        return JwtCredentialsProvider.builder().selfSigned(signer).refreshSkew(Duration.ofSeconds(10)).scheduler(vts);
    }

    private static String secret(Credentials c) {
        return c.secret().orElseThrow();
    }

    private static String jti(String token) throws Exception {
        return SignedJWT.parse(token).getJWTClaimsSet().getJWTID();
    }

    @Test
    void reusesTheTokenUntilExpMinusSkewThenRenews() throws Exception {
        JwtCredentialsProvider provider = selfSigned().build();
        String first = secret(provider.credentials(NORMAL).block());

        vts.advanceTimeBy(Duration.ofSeconds(49));
        assertThat(secret(provider.credentials(NORMAL).block())).isEqualTo(first);
        assertThat(provider.fetchCount()).isEqualTo(1);

        vts.advanceTimeBy(Duration.ofSeconds(1)); // exp (60 s) - skew (10 s)
        String renewed = secret(provider.credentials(NORMAL).block());
        assertThat(renewed).isNotEqualTo(first);
        assertThat(jti(renewed)).isNotEqualTo(jti(first));
        assertThat(SignedJWT.parse(renewed).getJWTClaimsSet().getIssueTime().toInstant()).isEqualTo(START.plusSeconds(50));
        assertThat(provider.fetchCount()).isEqualTo(2);
    }

    @Test
    void refreshRequestAlwaysGetsANewToken() {
        JwtCredentialsProvider provider = selfSigned().build();
        String first = secret(provider.credentials(NORMAL).block());
        String refreshed = secret(provider.credentials(REFRESH).block());
        assertThat(refreshed).isNotEqualTo(first);
        String again = secret(provider.credentials(REFRESH).block());
        assertThat(again).isNotEqualTo(refreshed);
        // After the refresh the new token is cached again.
        assertThat(secret(provider.credentials(NORMAL).block())).isEqualTo(again);
        assertThat(provider.fetchCount()).isEqualTo(3);
    }

    /** Subscribes at once and keeps what arrives, so the test can move virtual time and look. */
    private static final class Probe<T> {
        volatile T value;
        volatile Throwable error;

        Probe(Mono<T> mono) {
            mono.subscribe(v -> value = v, e -> error = e);
        }

        boolean done() {
            return value != null || error != null;
        }
    }

    @Test
    void hundredConcurrentRequestsShareOneFetch() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> slowIssuer = Mono.defer(() -> {
            calls.incrementAndGet();
            return Mono.just(signer.sign(now())).delayElement(Duration.ofMillis(500), vts);
        });
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("slow issuer", slowIssuer)
                .scheduler(vts).build();

        for (CredentialsRequest request : List.of(NORMAL, REFRESH)) {
            int before = calls.get();
            Probe<List<String>> all = new Probe<>(Flux.range(0, 100)
                    .flatMap(i -> provider.credentials(request), 100)
                    .map(JwtCredentialsProviderTest::secret)
                    .collectList());
            vts.advanceTimeBy(Duration.ofMillis(499));
            assertThat(all.done()).isFalse();
            vts.advanceTimeBy(Duration.ofMillis(1));
            assertThat(all.error).isNull();
            assertThat(all.value).hasSize(100);
            assertThat(Set.copyOf(all.value)).hasSize(1);
            assertThat(calls.get()).as("one fetch for 100 requests").isEqualTo(before + 1);
        }
    }

    @Test
    void issuerFailuresAreRetriedWithBackoff() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> flaky = Mono.defer(() -> calls.incrementAndGet() <= 2
                ? Mono.error(new IOException("issuer unavailable"))
                : Mono.just(signer.sign(now())));
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("flaky issuer", flaky)
                .fetchBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1)).scheduler(vts).build();

        Probe<Credentials> probe = new Probe<>(provider.credentials(NORMAL));
        assertThat(calls.get()).isEqualTo(1);
        vts.advanceTimeBy(Duration.ofMillis(1999));
        assertThat(calls.get()).isEqualTo(2);
        assertThat(probe.done()).isFalse();
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(calls.get()).isEqualTo(3);
        assertThat(probe.error).isNull();
        assertThat(probe.value.secret()).isPresent();
    }

    @Test
    void exhaustedRetriesSurfaceAsAClearRetryableError() {
        AtomicInteger calls = new AtomicInteger();
        Mono<String> down = Mono.defer(() -> {
            calls.incrementAndGet();
            return Mono.error(new IOException("connection refused by issuer"));
        });
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("down issuer", down)
                .fetchRetries(2).fetchBackoff(Duration.ofMillis(100), Duration.ofSeconds(1)).scheduler(vts).build();

        Probe<Credentials> probe = new Probe<>(provider.credentials(NORMAL));
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(probe.error).isInstanceOf(TokenUnavailableException.class)
                .hasMessageContaining("down issuer").hasMessageContaining("connection refused by issuer")
                .hasMessageContaining("3 tries");
        assertThat(FailureClassifier.defaults().classify(probe.error)).hasValueSatisfying(
                v -> assertThat(v.kind()).isEqualTo(Verdict.Kind.RETRY));
        assertThat(calls.get()).isEqualTo(3);

        // A later request tries again instead of replaying the failure.
        Probe<Credentials> again = new Probe<>(provider.credentials(NORMAL));
        vts.advanceTimeBy(Duration.ofSeconds(5));
        assertThat(again.error).isInstanceOf(TokenUnavailableException.class);
        assertThat(calls.get()).isEqualTo(6);
    }

    @Test
    void aHangingIssuerTimesOutInsteadOfHanging() {
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("silent issuer", Mono.never())
                .fetchTimeout(Duration.ofSeconds(2)).fetchRetries(1).fetchBackoff(Duration.ofSeconds(1), Duration.ofSeconds(1))
                .scheduler(vts).build();
        Probe<Credentials> probe = new Probe<>(provider.credentials(NORMAL));
        vts.advanceTimeBy(Duration.ofMillis(4999));
        assertThat(probe.done()).isFalse();
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertThat(probe.error).isInstanceOf(TokenUnavailableException.class)
                .hasMessageContaining("silent issuer did not supply a token within 2000 ms");
    }

    @Test
    void unusableTokensAreRefusedWithTheProblemNamed() throws Exception {
        Instant now = now();
        SignedJWT notYet = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder()
                .notBeforeTime(Date.from(now.plusSeconds(600))).expirationTime(Date.from(now.plusSeconds(900))).build());
        notYet.sign(new MACSigner(TestKeys.HMAC_SECRET));
        String expired = signer.sign(now.minusSeconds(120));
        String unsigned = new PlainJWT(new JWTClaimsSet.Builder().subject("x").expirationTime(Date.from(now.plusSeconds(60))).build()).serialize();

        assertRefused(() -> Mono.just("<html>502 Bad Gateway</html>"), InvalidJwtException.Reason.MALFORMED, "<html>");
        assertRefused(() -> Mono.just(unsigned), InvalidJwtException.Reason.UNSIGNED, unsigned);
        assertRefused(() -> Mono.just(expired), InvalidJwtException.Reason.EXPIRED, expired);
        assertRefused(() -> Mono.just(notYet.serialize()), InvalidJwtException.Reason.NOT_YET_VALID, notYet.serialize());
    }

    private void assertRefused(Supplier<Mono<String>> token, InvalidJwtException.Reason reason, String secretText) {
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("test issuer", Mono.defer(token))
                .fetchRetries(0).scheduler(vts).build();
        StepVerifier.create(provider.credentials(NORMAL))
                .expectErrorSatisfies(e -> {
                    assertThat(e).isInstanceOf(TokenUnavailableException.class).hasMessageContaining(reason.name())
                            .hasMessageContaining("must not be presented");
                    assertThat(((TokenUnavailableException) e).tokenProblem()).contains(reason);
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(t.getMessage()).doesNotContain(secretText);
                    }
                })
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aVerifierChecksSignatureOfIssuedTokens() {
        String foreign = JwtSigner.builder().hs256("another-secret-of-at-least-thirty-two-bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .build().sign(now());
        JwtVerifier verifier = JwtVerifier.builder().hmacSecret(TestKeys.HMAC_SECRET).build();
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("issuer", Mono.fromCallable(() -> foreign))
                .verifier(verifier).fetchRetries(0).scheduler(vts).build();
        StepVerifier.create(provider.credentials(NORMAL))
                .expectErrorSatisfies(e -> assertThat(((TokenUnavailableException) e).tokenProblem())
                        .contains(InvalidJwtException.Reason.BAD_SIGNATURE))
                .verify(Duration.ofSeconds(5));

        JwtCredentialsProvider good = JwtCredentialsProvider.builder().issuedBy("issuer", Mono.fromCallable(() -> signer.sign(now())))
                .verifier(verifier).scheduler(vts).build();
        StepVerifier.create(good.credentials(NORMAL)).expectNextCount(1).verifyComplete();
    }

    @Test
    void aSourceThatReturnsTheRefusedTokenFailsTheRefresh() {
        String fixed = signer.sign(now());
        JwtCredentialsProvider provider = JwtCredentialsProvider.builder().issuedBy("stuck issuer", Mono.just(fixed))
                .fetchRetries(0).scheduler(vts).build();
        assertThat(secret(provider.credentials(NORMAL).block())).isEqualTo(fixed);
        StepVerifier.create(provider.credentials(REFRESH))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(TokenUnavailableException.class)
                        .hasMessageContaining("supplied the token that was just refused"))
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void mappingsPutTheTokenWhereTheConnectorLooks() {
        String token = signer.sign(now());
        Credentials mqtt = TokenMapping.password("device-1").map(token);
        assertThat(mqtt.username()).contains("device-1");
        assertThat(mqtt.secret()).contains(token);
        Credentials header = TokenMapping.bearerHeader().map(token);
        assertThat(header.attributes()).containsEntry("header.Authorization", "Bearer " + token);
        Credentials query = TokenMapping.queryParameter("access_token").map(token);
        assertThat(query.attributes()).containsEntry("query.access_token", token);
        assertThat(List.of(mqtt, header, query)).allSatisfy(c -> assertThat(c.toString()).doesNotContain(token));

        JwtCredentialsProvider provider = selfSigned().mapping(TokenMapping.password("device-1")).build();
        Credentials c = provider.credentials(NORMAL).block();
        assertThat(c.username()).contains("device-1");
        assertThat(provider.toString()).doesNotContain(secret(c));
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> TokenMapping.header("Bad Name", "")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad Name");
    }

    @Test
    void builderRefusesBadSettingsNamingThem() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JwtCredentialsProvider.builder().build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no token source");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JwtCredentialsProvider.builder().refreshSkew(Duration.ofSeconds(-5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("refreshSkew").hasMessageContaining("PT-5S");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JwtCredentialsProvider.builder().fetchRetries(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fetchRetries").hasMessageContaining("-1");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> JwtCredentialsProvider.builder().selfSigned(signer).selfSigned(signer))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already set");
    }

    @Test
    void theDefaultSchedulerFollowsStepVerifierVirtualTime() {
        AtomicInteger calls = new AtomicInteger();
        StepVerifier.withVirtualTime(() -> {
                    JwtCredentialsProvider provider = JwtCredentialsProvider.builder()
                            .issuedBy("flaky issuer", Mono.defer(() -> calls.incrementAndGet() == 1
                                    ? Mono.error(new IOException("first try fails"))
                                    : Mono.fromCallable(() -> signer.sign(Instant.ofEpochMilli(
                                            reactor.core.scheduler.Schedulers.parallel().now(TimeUnit.MILLISECONDS))))))
                            .fetchBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30))
                            .build();
                    return provider.credentials(NORMAL);
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(30))
                .assertNext(c -> assertThat(c.secret()).isPresent())
                .verifyComplete();
        assertThat(calls.get()).isEqualTo(2);
    }
}
