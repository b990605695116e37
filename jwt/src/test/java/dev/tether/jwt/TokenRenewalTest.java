package dev.tether.jwt;

import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsRequest;
import dev.tether.core.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link TokenRenewal}'s schedule, outcomes and fallback, in virtual time. */
class TokenRenewalTest {

    private static final Endpoint ENDPOINT = Endpoint.of("tcp://127.0.0.1:1883");
    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();

    @AfterEach
    void dispose() {
        clock.dispose();
    }

    private JwtCredentialsProvider tokens(Duration lifetime) {
        clock.advanceTimeTo(Instant.parse("2026-06-01T10:00:00Z"));
        return JwtCredentialsProvider.builder()
                .selfSigned(JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).subject("device-1").lifetime(lifetime).build())
                .refreshSkew(Duration.ofSeconds(5))
                .scheduler(clock)
                .build();
    }

    private static Instant exp(Credentials c) throws Exception {
        return SignedJWT.parse(c.secret().orElseThrow()).getJWTClaimsSet().getExpirationTime().toInstant();
    }

    @Test
    void renewsAMarginBeforeEachExpiryWithTheTokenItHandsOut() throws Exception {
        TokenRenewal renewal = TokenRenewal.builder(tokens(Duration.ofMinutes(10))).margin(Duration.ofSeconds(30)).build();
        List<Credentials> presented = new CopyOnWriteArrayList<>();
        // The renewal action asks the renewal for fresh credentials, as an MQTT re-authentication does.
        renewal.start(() -> renewal.credentials(new CredentialsRequest(1, ENDPOINT, true)).doOnNext(presented::add).then(), null);
        List<TokenRenewal.Renewal> done = new CopyOnWriteArrayList<>();
        renewal.renewals().subscribe(done::add);

        Credentials first = renewal.credentials(new CredentialsRequest(1, ENDPOINT, false)).block();
        Instant firstExp = exp(first);
        clock.advanceTimeTo(firstExp.minusSeconds(31));
        assertThat(done).as("not before the margin").isEmpty();
        clock.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(done).hasSize(1);
        assertThat(done.get(0).outcome()).isEqualTo(TokenRenewal.Outcome.RENEWED);
        assertThat(done.get(0).expiring()).isEqualTo(firstExp);
        assertThat(exp(presented.get(0))).isAfter(firstExp);

        // The next renewal follows the new token, and so on.
        clock.advanceTimeTo(exp(presented.get(0)).minusSeconds(30));
        assertThat(done).hasSize(2);
        assertThat(presented).hasSize(2);
        renewal.dispose();
        clock.advanceTimeBy(Duration.ofHours(1));
        assertThat(done).as("nothing after dispose").hasSize(2);
    }

    @Test
    void aFailedRenewalFallsBackAndEveryOutcomeIsReported() {
        TokenRenewal renewal = TokenRenewal.builder(tokens(Duration.ofMinutes(10))).margin(Duration.ofSeconds(30)).build();
        AtomicInteger fallbacks = new AtomicInteger();
        renewal.start(() -> Mono.error(new IllegalStateException("AUTH refused")),
                () -> Mono.fromRunnable(fallbacks::incrementAndGet));
        List<TokenRenewal.Renewal> done = new CopyOnWriteArrayList<>();
        renewal.renewals().subscribe(done::add);
        renewal.credentials(new CredentialsRequest(1, ENDPOINT, false)).block();
        clock.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(done).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(TokenRenewal.Outcome.FELL_BACK);
            assertThat(r.cause()).hasMessage("AUTH refused");
        });
        assertThat(fallbacks).hasValue(1);

        TokenRenewal failing = TokenRenewal.builder(tokens(Duration.ofMinutes(10))).margin(Duration.ofSeconds(30)).build();
        failing.start(() -> Mono.error(new IllegalStateException("not connected")), () -> Mono.error(new IllegalStateException("still not")));
        List<TokenRenewal.Renewal> failed = new CopyOnWriteArrayList<>();
        failing.renewals().subscribe(failed::add);
        failing.credentials(new CredentialsRequest(1, ENDPOINT, false)).block();
        clock.advanceTimeBy(Duration.ofMinutes(10));
        assertThat(failed).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(TokenRenewal.Outcome.FAILED);
            assertThat(r.cause()).hasMessage("still not");
            assertThat(r.cause().getSuppressed()).extracting(Throwable::getMessage).containsExactly("not connected");
        });
    }

    @Test
    void aTokenDueForRenewalIsNeverHandedOutAgain() throws Exception {
        JwtCredentialsProvider tokens = tokens(Duration.ofMinutes(10));
        TokenRenewal renewal = TokenRenewal.builder(tokens).margin(Duration.ofMinutes(1)).build();
        Credentials first = renewal.credentials(new CredentialsRequest(1, ENDPOINT, false)).block();
        clock.advanceTimeTo(exp(first).minusSeconds(59)); // the provider's own skew (5 s) would still reuse it
        Credentials second = renewal.credentials(new CredentialsRequest(2, ENDPOINT, false)).block();
        assertThat(exp(second)).isAfter(exp(first));
        assertThat(tokens.fetchCount()).isEqualTo(2);
        Credentials third = renewal.credentials(new CredentialsRequest(3, ENDPOINT, false)).block();
        assertThat(third.secret()).isEqualTo(second.secret());
    }

    @Test
    void configurationIsChecked() {
        JwtCredentialsProvider tokens = tokens(Duration.ofMinutes(10));
        assertThatThrownBy(() -> TokenRenewal.builder(tokens).margin(Duration.ZERO)).hasMessageContaining("margin");
        TokenRenewal renewal = TokenRenewal.builder(tokens).build();
        assertThat(renewal.margin()).isEqualTo(TokenRenewal.DEFAULT_MARGIN);
        renewal.start(Mono::empty, null);
        assertThatThrownBy(() -> renewal.start(Mono::empty, null)).hasMessageContaining("already started");
        assertThat(renewal.toString()).doesNotContain(new String(TestKeys.HMAC_SECRET, java.nio.charset.StandardCharsets.US_ASCII));
    }
}
