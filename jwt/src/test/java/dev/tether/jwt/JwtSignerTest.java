package dev.tether.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JwtSignerTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00.750Z");

    @Test
    void hs256TokenCarriesTemplateAndFreshTimes() throws Exception {
        JwtSigner signer = JwtSigner.builder()
                .hs256(TestKeys.HMAC_SECRET)
                .keyId("k1")
                .issuer("device-42").subject("device-42").audience("broker", "gateway")
                .claim("scope", "telemetry:write").claim("tenant", Map.of("id", 7))
                .lifetime(Duration.ofMinutes(2))
                .build();
        SignedJWT jwt = SignedJWT.parse(signer.sign(NOW));

        assertThat(jwt.verify(new MACVerifier(TestKeys.HMAC_SECRET))).isTrue();
        assertThat(jwt.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.HS256);
        assertThat(jwt.getHeader().getKeyID()).isEqualTo("k1");
        JWTClaimsSet c = jwt.getJWTClaimsSet();
        assertThat(c.getIssuer()).isEqualTo("device-42");
        assertThat(c.getSubject()).isEqualTo("device-42");
        assertThat(c.getAudience()).containsExactly("broker", "gateway");
        assertThat(c.getStringClaim("scope")).isEqualTo("telemetry:write");
        assertThat(c.getJSONObjectClaim("tenant")).containsEntry("id", 7L);
        assertThat(c.getIssueTime().toInstant()).isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
        assertThat(c.getExpirationTime().toInstant()).isEqualTo(Instant.parse("2026-03-01T12:02:00Z"));
        assertThat(c.getJWTID()).isNotBlank();
    }

    @Test
    void everyTokenHasItsOwnJtiAndIssueTime() throws Exception {
        JwtSigner signer = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).build();
        JWTClaimsSet a = SignedJWT.parse(signer.sign(NOW)).getJWTClaimsSet();
        JWTClaimsSet b = SignedJWT.parse(signer.sign(NOW)).getJWTClaimsSet();
        JWTClaimsSet later = SignedJWT.parse(signer.sign(NOW.plusSeconds(90))).getJWTClaimsSet();
        assertThat(a.getJWTID()).isNotEqualTo(b.getJWTID());
        assertThat(later.getIssueTime().toInstant()).isEqualTo(a.getIssueTime().toInstant().plusSeconds(90));
        assertThat(later.getExpirationTime().toInstant())
                .isEqualTo(later.getIssueTime().toInstant().plus(JwtSigner.DEFAULT_LIFETIME));
    }

    @Test
    void rs256AndEs256VerifyWithThePublicKeys() throws Exception {
        SignedJWT rs = SignedJWT.parse(JwtSigner.builder().rs256(TestKeys.rsaPrivate()).build().sign(NOW));
        SignedJWT es = SignedJWT.parse(JwtSigner.builder().es256(TestKeys.ecPrivate()).build().sign(NOW));
        assertThat(rs.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.RS256);
        assertThat(rs.verify(new RSASSAVerifier(TestKeys.rsaPublic()))).isTrue();
        assertThat(rs.verify(new RSASSAVerifier((java.security.interfaces.RSAPublicKey) TestKeys.RSA_OTHER.getPublic()))).isFalse();
        assertThat(es.getHeader().getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(es.verify(new ECDSAVerifier(TestKeys.ecPublic()))).isTrue();
    }

    @Test
    void signsFromAPrivateJwkAndTakesItsKeyId() throws Exception {
        RSAKey rsaJwk = new RSAKey.Builder(TestKeys.rsaPublic()).privateKey(TestKeys.rsaPrivate()).keyID("rsa-1").build();
        ECKey ecJwk = new ECKey.Builder(Curve.P_256, TestKeys.ecPublic()).privateKey(TestKeys.ecPrivate()).keyID("ec-1").build();
        String rsToken = JwtSigner.builder().jwk(rsaJwk).build().sign(NOW);
        String esToken = JwtSigner.builder().jwk(ecJwk).build().sign(NOW);
        assertThat(SignedJWT.parse(rsToken).getHeader().getKeyID()).isEqualTo("rsa-1");

        JwtVerifier verifier = JwtVerifier.builder()
                .jwkSet(new JWKSet(List.of(rsaJwk.toPublicJWK(), ecJwk.toPublicJWK())))
                .build();
        assertThat(verifier.verify(rsToken, NOW)).isNotNull();
        assertThat(verifier.verify(esToken, NOW)).isNotNull();
    }

    @Test
    void builderRefusesBadInputNamingTheField() {
        assertThatThrownBy(() -> JwtSigner.builder().hs256(new byte[12]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hs256 secret").hasMessageContaining("12");
        assertThatThrownBy(() -> JwtSigner.builder().claim("exp", 5))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'exp'");
        assertThatThrownBy(() -> JwtSigner.builder().lifetime(Duration.ofMillis(10)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lifetime").hasMessageContaining("PT0.01S");
        assertThatThrownBy(() -> JwtSigner.builder().issuer(" "))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("issuer");
        assertThatThrownBy(() -> JwtSigner.builder().build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key");
        RSAKey publicOnly = new RSAKey.Builder(TestKeys.rsaPublic()).keyID("pub").build();
        assertThatThrownBy(() -> JwtSigner.builder().jwk(publicOnly))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("private");
    }

    @Test
    void toStringShowsNoKeyMaterial() {
        JwtSigner signer = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).subject("s").claim("role", "x").build();
        String text = signer.toString();
        assertThat(text).contains("HS256", "role").doesNotContain(new String(TestKeys.HMAC_SECRET, java.nio.charset.StandardCharsets.US_ASCII))
                .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(TestKeys.HMAC_SECRET));
    }
}
