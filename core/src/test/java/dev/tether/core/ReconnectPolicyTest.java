package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReconnectPolicyTest {

    @Test
    void exponentialBoundIsCapped() {
        ReconnectPolicy p = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).multiplier(2)
                .maxDelay(Duration.ofSeconds(1)).jitter(Jitter.NONE).build();
        assertThat(List.of(p.delay(1, 0.3), p.delay(2, 0.3), p.delay(3, 0.3), p.delay(4, 0.3), p.delay(5, 0.3), p.delay(60, 0.3)))
                .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400),
                        Duration.ofMillis(800), Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThat(p.bound(10_000)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void fullJitterStaysWithinZeroAndTheBound() {
        ReconnectPolicy p = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).multiplier(2.0)
                .maxDelay(Duration.ofSeconds(5)).build();
        Random r = new Random(42);
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int i = 0; i < 10_000; i++) {
            Duration d = p.delay(4, r.nextDouble());
            assertThat(d).isBetween(Duration.ZERO, Duration.ofMillis(800));
            min = Math.min(min, d.toMillis());
            max = Math.max(max, d.toMillis());
        }
        // Spread over the whole range, not clustered: a herd is really dispersed.
        assertThat(min).isLessThan(50);
        assertThat(max).isGreaterThan(750);
    }

    @Test
    void equalJitterKeepsAtLeastHalf() {
        ReconnectPolicy p = ReconnectPolicy.builder().jitter(Jitter.EQUAL).initialDelay(Duration.ofMillis(1000))
                .maxDelay(Duration.ofSeconds(10)).build();
        assertThat(p.delay(1, 0.0)).isEqualTo(Duration.ofMillis(500));
        assertThat(p.delay(1, 0.999)).isBetween(Duration.ofMillis(999), Duration.ofMillis(1000));
    }

    @Test
    void badValuesFailAtOnceNamingTheFieldAndValue() {
        assertThatThrownBy(() -> ReconnectPolicy.builder().initialDelay(Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initialDelay").hasMessageContaining("-0.005");
        assertThatThrownBy(() -> ReconnectPolicy.builder().multiplier(0.5))
                .hasMessageContaining("multiplier").hasMessageContaining("0.5");
        assertThatThrownBy(() -> ReconnectPolicy.builder().multiplier(Double.NaN)).hasMessageContaining("multiplier");
        assertThatThrownBy(() -> ReconnectPolicy.builder().maxAttempts(-1)).hasMessageContaining("maxAttempts").hasMessageContaining("-1");
        assertThatThrownBy(() -> ReconnectPolicy.builder().maxElapsed(Duration.ZERO)).hasMessageContaining("maxElapsed");
        assertThatThrownBy(() -> ReconnectPolicy.builder().stablePeriod(Duration.ofSeconds(-1))).hasMessageContaining("stablePeriod");
        assertThatThrownBy(() -> ReconnectPolicy.builder().initialDelay(Duration.ofSeconds(60)).maxDelay(Duration.ofSeconds(1)).build())
                .hasMessageContaining("initialDelay").hasMessageContaining("maxDelay");
    }

    @Test
    void isAnImmutableValue() {
        ReconnectPolicy a = ReconnectPolicy.builder().maxAttempts(5).build();
        ReconnectPolicy b = a.toBuilder().build();
        assertThat(b).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(a.toBuilder().maxAttempts(6).build()).isNotEqualTo(a);
        assertThat(a.maxAttempts()).isEqualTo(5);
        assertThat(ReconnectPolicy.defaults()).isEqualTo(ReconnectPolicy.builder().build());
        assertThat(ReconnectPolicy.defaults().toString()).contains("unlimited");
    }

    @Test
    void resilience4jRegistriesAreCarriedAlongAndCompared() {
        io.github.resilience4j.retry.RetryRegistry retries = io.github.resilience4j.retry.RetryRegistry.ofDefaults();
        io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry breakers =
                io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry.ofDefaults();
        ReconnectPolicy p = ReconnectPolicy.builder().retryRegistry(retries).circuitBreakerRegistry(breakers).build();
        assertThat(p.retryRegistry()).containsSame(retries);
        assertThat(p.circuitBreakerRegistry()).containsSame(breakers);
        assertThat(p.toBuilder().build()).isEqualTo(p).hasSameHashCodeAs(p);
        assertThat(p.toBuilder().retryRegistry(io.github.resilience4j.retry.RetryRegistry.ofDefaults()).build()).isNotEqualTo(p);
        assertThat(p.toBuilder().retryRegistry(null).circuitBreakerRegistry(null).build()).isEqualTo(ReconnectPolicy.defaults());
        assertThat(p.toString()).contains("retryRegistry").contains("circuitBreakerRegistry");
        assertThat(ReconnectPolicy.defaults().retryRegistry()).isEmpty();
    }

    @Test
    void connectionBuilderRejectsBadConfiguration() {
        ScriptedConnector c = new ScriptedConnector();
        assertThatThrownBy(() -> ResilientConnection.builder(c).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endpoints");
        assertThatThrownBy(() -> ResilientConnection.builder(c).attemptTimeout(Duration.ZERO))
                .hasMessageContaining("attemptTimeout");
        assertThatThrownBy(() -> ResilientConnection.builder(c).closeTimeout(Duration.ofSeconds(-1)))
                .hasMessageContaining("closeTimeout");
        assertThatThrownBy(() -> Endpoint.of("not a uri")).hasMessageContaining("not a uri");
        assertThatThrownBy(() -> Endpoint.of("/relative")).hasMessageContaining("absolute");
        assertThatThrownBy(() -> Endpoint.of("tcp://user:pw@host:1")).hasMessageNotContaining("pw").hasMessageContaining("user info");
    }

    @Test
    void verdictValidation() {
        assertThatThrownBy(() -> Verdict.retryAfter(Duration.ofSeconds(-1))).hasMessageContaining("minimumDelay");
        assertThatThrownBy(() -> Verdict.retry().withMaxConsecutive(0)).hasMessageContaining("maxConsecutive");
        assertThat(Verdict.retryAfter(Duration.ofSeconds(2)).toString()).contains("2000");
    }

    @Test
    void credentialsNeverPrintTheirSecret() {
        Credentials c = Credentials.of("device-7", "s3cr3t-token").withAttribute("header", "Bearer s3cr3t-token");
        assertThat(c.toString()).contains("device-7").doesNotContain("s3cr3t");
        assertThat(Credentials.token("abc.def.ghi").toString()).doesNotContain("abc");
        assertThat(c.secret()).contains("s3cr3t-token");
    }

    @Test
    void credentialsCarryHeadersAndQueryParametersForHttpConnectors() {
        Credentials c = Credentials.token("t0k3n").withHeader("Authorization", "Bearer t0k3n").withQueryParameter("access_token", "t0k3n");
        assertThat(c.headers()).containsExactly(java.util.Map.entry("Authorization", "Bearer t0k3n"));
        assertThat(c.queryParameters()).containsExactly(java.util.Map.entry("access_token", "t0k3n"));
        assertThat(c.toString()).doesNotContain("t0k3n").contains("header.Authorization");
    }
}
