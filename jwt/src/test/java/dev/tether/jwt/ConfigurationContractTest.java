package dev.tether.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.testing.BuilderCopies;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import nl.jqno.equalsverifier.EqualsVerifier;
import nl.jqno.equalsverifier.Warning;
import org.junit.jupiter.api.Test;

/** The JWT module's configuration: value types keep the equals contract, and every toBuilder() carries every setting. */
class ConfigurationContractTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private static final Map<Class<?>, Object> VALUES = Map.of(
            KeySetSettings.class, KeySetSettings.builder().cacheTimeToLive(Duration.ofMinutes(1)).build(),
            java.time.Clock.class, java.time.Clock.fixed(java.time.Instant.EPOCH, java.time.ZoneOffset.UTC));

    @Test
    void valueTypesKeepTheEqualsContract() {
        // hashCode leaves the client secret out on purpose (nothing derived from a secret is handed around);
        // equal objects still hash alike
        EqualsVerifier.forClass(ClientCredentials.class).suppress(Warning.STRICT_HASHCODE).verify();
    }

    @Test
    void toBuilderCarriesEverySetting() {
        assertThat(BuilderCopies.assertCopiesEveryField(KeySetSettings.builder(), b -> b.build().toBuilder(), VALUES))
                .contains("cacheTimeToLive", "refreshAhead", "refreshTimeout", "minRefreshInterval", "outageTolerance",
                        "httpTimeout", "maxResponseBytes");
        assertThat(BuilderCopies.assertCopiesEveryField(JwtSigner.builder().hs256(SECRET), b -> b.build().toBuilder(), VALUES,
                "algorithm", "signer"))
                .contains("keyId", "issuer", "subject", "lifetime");
        assertThat(BuilderCopies.assertCopiesEveryField(JwtVerifier.builder().hmacSecret(SECRET), b -> b.build().toBuilder(), VALUES,
                "jwkSetUri", "issuerUri", "keySetSettings"))
                .contains("issuer", "clockSkew", "requireExpiry", "maxTokenLength", "clock");
        JwtSigner signer = JwtSigner.builder().hs256(SECRET).subject("device").build();
        assertThat(BuilderCopies.assertCopiesEveryField(JwtCredentialsProvider.builder().selfSigned(signer),
                b -> b.build().toBuilder(), VALUES, "source", "verifier"))
                .contains("refreshSkew", "clockTolerance", "fetchTimeout", "fetchRetries", "fetchBackoff", "fetchMaxBackoff",
                        "name", "scheduler");
        JwtCredentialsProvider tokens = JwtCredentialsProvider.builder().selfSigned(signer).build();
        assertThat(BuilderCopies.assertCopiesEveryField(TokenRenewal.builder(tokens), b -> b.build().toBuilder(), VALUES))
                .contains("margin", "scheduler");
    }
}
