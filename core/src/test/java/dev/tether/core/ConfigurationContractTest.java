package dev.tether.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.testing.BuilderCopies;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import java.net.URI;
import java.time.Duration;
import nl.jqno.equalsverifier.EqualsVerifier;
import org.junit.jupiter.api.Test;

/** Core's value types keep the equals/hashCode contract, and toBuilder() carries every setting. */
class ConfigurationContractTest {

    @Test
    void valueTypesKeepTheEqualsContract() {
        EqualsVerifier.forClass(ReconnectPolicy.class)
                .withPrefabValues(RetryRegistry.class, RetryRegistry.ofDefaults(), RetryRegistry.ofDefaults())
                .withPrefabValues(CircuitBreakerRegistry.class, CircuitBreakerRegistry.ofDefaults(), CircuitBreakerRegistry.ofDefaults())
                .withPrefabValues(CircuitBreaker.class, CircuitBreaker.ofDefaults("a"), CircuitBreaker.ofDefaults("b"))
                .verify();
        EqualsVerifier.forClass(Verdict.class)
                .withPrefabValues(Endpoint.class, Endpoint.of("tcp://127.0.0.1:1"), Endpoint.of("tcp://127.0.0.1:2"))
                .verify();
        EqualsVerifier.forClass(Credentials.class).verify();
        EqualsVerifier.forClass(Endpoint.class)
                .withPrefabValues(URI.class, URI.create("tcp://127.0.0.1:1"), URI.create("tcp://127.0.0.1:2"))
                .verify();
    }

    @Test
    void endpointsParsedFromEqualStringsAreSharedAndStillValidated() {
        // Built from two distinct string objects, as clients configured in a loop would be.
        Endpoint a = Endpoint.of(new StringBuilder("tcp://127.0.0.1:").append(18_830).toString());
        Endpoint b = Endpoint.of(new StringBuilder("tcp://127.0.0.1:").append(18_830).toString());
        assertThat(b).isSameAs(a);
        assertThat(b.host()).isEqualTo("127.0.0.1");
        assertThat(b.port(1883)).isEqualTo(18_830);
        Endpoint other = Endpoint.of("tcp://127.0.0.1:18831");
        assertThat(other).isNotSameAs(a).isNotEqualTo(a);
        assertThat(Endpoint.of("ws://Host.example/mqtt?a=1").uri().getRawQuery()).isEqualTo("a=1");
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> Endpoint.of("tcp://user:secret@127.0.0.1:1883"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("secret");
            assertThatThrownBy(() -> Endpoint.of("no-scheme")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void reconnectPolicyToBuilderCarriesEverySetting() {
        ReconnectPolicy.Builder b = ReconnectPolicy.builder();
        assertThat(BuilderCopies.assertCopiesEveryField(b, x -> x.build().toBuilder(), "circuitBreakerRegistry"))
                .contains("initialDelay", "multiplier", "jitter", "maxAttempts", "maxElapsed", "stablePeriod",
                        "circuitBreaker", "retryRegistry");
        ReconnectPolicy p = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(5)).build();
        assertThat(p.toBuilder().build()).isEqualTo(p).hasSameHashCodeAs(p);
    }
}
