package dev.tether.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.jwt.InvalidJwtException.Reason;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JwtVerifierTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private final JwtVerifier verifier = JwtVerifier.builder()
            .publicKey(TestKeys.rsaPublic())
            .issuer("https://issuer.test")
            .audience("broker")
            .clockSkew(Duration.ofSeconds(30))
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .build();

    private static JwtSigner.Builder rsSigner() {
        return JwtSigner.builder().rs256(TestKeys.rsaPrivate()).issuer("https://issuer.test").audience("broker").subject("device-1");
    }

    private static JWTClaimsSet.Builder goodClaims() {
        return new JWTClaimsSet.Builder().issuer("https://issuer.test").audience("broker").subject("device-1")
                .issueTime(Date.from(NOW.minusSeconds(10))).expirationTime(Date.from(NOW.plusSeconds(300)));
    }

    private static String rs256(JWTClaimsSet claims, PrivateKey key, String kid) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static Reason refusal(JwtVerifier v, String token) {
        try {
            v.verify(token);
        } catch (InvalidJwtException e) {
            assertThat(e.getMessage()).as("message must not leak the token").doesNotContain(token.length() > 20 ? token.substring(token.length() - 20) : "\u0000");
            return e.reason();
        }
        throw new AssertionError("the token was accepted");
    }

    @Test
    void acceptsAGoodTokenAndReturnsItsClaims() throws Exception {
        String token = rsSigner().claim("scope", "publish").build().sign(NOW);
        JWTClaimsSet claims = verifier.verify(token);
        assertThat(claims.getSubject()).isEqualTo("device-1");
        assertThat(claims.getStringClaim("scope")).isEqualTo("publish");
        assertThat(verifier.verifyAuthorization("Bearer " + token).getSubject()).isEqualTo("device-1");
        assertThat(verifier.verifyAuthorization("bearer " + token).getSubject()).isEqualTo("device-1");
    }

    @Test
    void refusesUnsignedTokens() {
        String none = new PlainJWT(goodClaims().build()).serialize();
        assertThat(refusal(verifier, none)).isEqualTo(Reason.UNSIGNED);
        // "alg":"none" with a signature part stuck on it
        assertThat(refusal(verifier, none + "c2lnbmF0dXJl")).isEqualTo(Reason.UNSIGNED);
    }

    @Test
    void refusesHs256SignedWithTheRsaPublicKey() throws Exception {
        // Algorithm confusion: the attacker uses the (public) RSA key bytes as an HMAC secret.
        SignedJWT forged = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), goodClaims().build());
        forged.sign(new MACSigner(TestKeys.rsaPublic().getEncoded()));
        assertThat(refusal(verifier, forged.serialize())).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(verifier.algorithms()).doesNotContain(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512);
    }

    @Test
    void refusesExpiredBeyondTheSkewButNotWithinIt() throws Exception {
        String expired = rsSigner().lifetime(Duration.ofMinutes(5)).build().sign(NOW.minus(Duration.ofMinutes(6)));
        assertThat(refusal(verifier, expired)).isEqualTo(Reason.EXPIRED);
        String withinSkew = rs256(goodClaims().expirationTime(Date.from(NOW.minusSeconds(20))).build(), TestKeys.rsaPrivate(), "k");
        assertThat(verifier.verify(withinSkew).getSubject()).isEqualTo("device-1");
    }

    @Test
    void refusesNotYetValid() throws Exception {
        String nbf = rs256(goodClaims().notBeforeTime(Date.from(NOW.plusSeconds(120))).build(), TestKeys.rsaPrivate(), "k");
        assertThat(refusal(verifier, nbf)).isEqualTo(Reason.NOT_YET_VALID);
        String future = rsSigner().build().sign(NOW.plusSeconds(600));
        assertThat(refusal(verifier, future)).isEqualTo(Reason.NOT_YET_VALID);
    }

    @Test
    void refusesWrongAudienceAndWrongIssuer() {
        assertThat(refusal(verifier, rsSigner().audience("other-service").build().sign(NOW))).isEqualTo(Reason.WRONG_AUDIENCE);
        assertThat(refusal(verifier, JwtSigner.builder().rs256(TestKeys.rsaPrivate()).build().sign(NOW)))
                .isEqualTo(Reason.WRONG_ISSUER);
        assertThat(refusal(verifier, JwtSigner.builder().rs256(TestKeys.rsaPrivate()).issuer("https://evil.test")
                .audience("broker").build().sign(NOW))).isEqualTo(Reason.WRONG_ISSUER);
    }

    @Test
    void refusesTruncatedTokens() {
        String token = rsSigner().build().sign(NOW);
        assertThat(refusal(verifier, token.substring(0, token.length() - 30))).isEqualTo(Reason.TRUNCATED);
        assertThat(refusal(verifier, token.substring(0, token.lastIndexOf('.')))).isEqualTo(Reason.TRUNCATED);
        assertThat(refusal(verifier, token.substring(0, token.lastIndexOf('.') + 1))).isEqualTo(Reason.TRUNCATED);
    }

    @Test
    void refusesGarbage() {
        assertThat(refusal(verifier, "definitely not a token")).isEqualTo(Reason.MALFORMED);
        assertThat(refusal(verifier, "abc.def.ghi")).isEqualTo(Reason.MALFORMED);
        assertThat(refusal(verifier, "")).isEqualTo(Reason.MALFORMED);
        assertThat(refusal(verifier, "a".repeat(JwtVerifier.DEFAULT_MAX_TOKEN_LENGTH + 1))).isEqualTo(Reason.MALFORMED);
        String header = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"RS256\"}".getBytes(StandardCharsets.UTF_8));
        String notJson = Base64.getUrlEncoder().withoutPadding().encodeToString("[1,2".getBytes(StandardCharsets.UTF_8));
        assertThat(refusal(verifier, header + "." + notJson + "." + "A".repeat(342))).isEqualTo(Reason.MALFORMED);
        assertThatThrownBy(() -> verifier.verifyAuthorization("Basic dXNlcjpwYXNz"))
                .isInstanceOfSatisfying(InvalidJwtException.class, e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void refusesBadSignatures() throws Exception {
        String other = rs256(goodClaims().build(), TestKeys.RSA_OTHER.getPrivate(), "k");
        assertThat(refusal(verifier, other)).isEqualTo(Reason.BAD_SIGNATURE);
        // Swap in another payload under the original signature.
        String token = rsSigner().build().sign(NOW);
        String[] parts = token.split("\\.");
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(
                goodClaims().subject("admin").build().toString().getBytes(StandardCharsets.UTF_8));
        assertThat(refusal(verifier, parts[0] + "." + payload + "." + parts[2])).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void refusesUnknownKeyIdAndPicksTheNamedKeyFromASet() throws Exception {
        RSAKey a = new RSAKey.Builder(TestKeys.rsaPublic()).keyID("a").build();
        RSAKey b = new RSAKey.Builder((java.security.interfaces.RSAPublicKey) TestKeys.RSA_OTHER.getPublic()).keyID("b").build();
        JwtVerifier set = JwtVerifier.builder().jwkSet(new JWKSet(List.of(a, b))).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        assertThat(set.verify(rs256(goodClaims().build(), TestKeys.rsaPrivate(), "a"))).isNotNull();
        assertThat(set.verify(rs256(goodClaims().build(), TestKeys.RSA_OTHER.getPrivate(), "b"))).isNotNull();
        assertThat(refusal(set, rs256(goodClaims().build(), TestKeys.rsaPrivate(), "c"))).isEqualTo(Reason.UNKNOWN_KEY);
        // Right kid, wrong key behind it.
        assertThat(refusal(set, rs256(goodClaims().build(), TestKeys.RSA_OTHER.getPrivate(), "a"))).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void refusesMissingExpiryUnlessAllowed() throws Exception {
        String noExp = rs256(goodClaims().expirationTime(null).build(), TestKeys.rsaPrivate(), "k");
        assertThat(refusal(verifier, noExp)).isEqualTo(Reason.MISSING_CLAIM);
        JwtVerifier lenient = JwtVerifier.builder().publicKey(TestKeys.rsaPublic()).requireExpiry(false)
                .clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        assertThat(lenient.verify(noExp).getSubject()).isEqualTo("device-1");
    }

    @Test
    void hmacAndEcKeysVerifyTheirOwnAlgorithmsOnly() {
        JwtVerifier hmac = JwtVerifier.builder().hmacSecret(TestKeys.HMAC_SECRET).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        JwtVerifier ec = JwtVerifier.builder().publicKey(TestKeys.ecPublic()).clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        String hs = JwtSigner.builder().hs256(TestKeys.HMAC_SECRET).build().sign(NOW);
        String es = JwtSigner.builder().es256(TestKeys.ecPrivate()).build().sign(NOW);
        assertThat(hmac.algorithms()).containsExactly(JWSAlgorithm.HS256);
        assertThat(ec.algorithms()).containsExactly(JWSAlgorithm.ES256);
        assertThat(refusal(hmac, es)).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(refusal(ec, hs)).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        String esTruncated = es.substring(0, es.length() - 8);
        assertThat(refusal(ec, esTruncated)).isEqualTo(Reason.TRUNCATED);
    }

    @Test
    void everyRefusalCaseHasItsOwnReason() throws Exception {
        String good = rsSigner().build().sign(NOW);
        SignedJWT forged = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), goodClaims().build());
        forged.sign(new MACSigner(TestKeys.rsaPublic().getEncoded()));
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("alg none", new PlainJWT(goodClaims().build()).serialize());
        cases.put("HS256 with the RSA public key", forged.serialize());
        cases.put("expired", rsSigner().build().sign(NOW.minus(Duration.ofHours(1))));
        cases.put("not yet valid", rs256(goodClaims().notBeforeTime(Date.from(NOW.plusSeconds(3600))).build(), TestKeys.rsaPrivate(), "k"));
        cases.put("wrong audience", rsSigner().audience("elsewhere").build().sign(NOW));
        cases.put("wrong issuer", JwtSigner.builder().rs256(TestKeys.rsaPrivate()).issuer("https://evil.test").audience("broker").build().sign(NOW));
        cases.put("truncated", good.substring(0, good.length() - 40));
        cases.put("garbage", "%%%garbage%%%");
        cases.put("bad signature", rs256(goodClaims().build(), TestKeys.RSA_OTHER.getPrivate(), "k"));
        Set<Reason> seen = EnumSet.noneOf(Reason.class);
        cases.forEach((name, token) -> assertThat(seen.add(refusal(verifier, token))).as(name + " has a distinct reason").isTrue());
        assertThat(seen).hasSize(cases.size());
    }

    @Test
    void builderValidatesAndToStringHidesKeys() {
        assertThatThrownBy(() -> JwtVerifier.builder().build()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keys");
        assertThatThrownBy(() -> JwtVerifier.builder().hmacSecret(new byte[8])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("hmacSecret").hasMessageContaining("8");
        assertThatThrownBy(() -> JwtVerifier.builder().clockSkew(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("clockSkew").hasMessageContaining("PT-1S");
        assertThatThrownBy(() -> JwtVerifier.builder().publicKey(TestKeys.rsaPublic()).algorithms(JWSAlgorithm.HS256).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HS256");
        assertThatThrownBy(() -> JwtVerifier.builder().algorithms(new JWSAlgorithm("none")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("none");
        String text = JwtVerifier.builder().hmacSecret("k", TestKeys.HMAC_SECRET).build().toString();
        assertThat(text).contains("HMAC(kid=k)").doesNotContain(new String(TestKeys.HMAC_SECRET, StandardCharsets.US_ASCII));
    }

    @Test
    void aJwkSetWithUnusableKeysKeepsTheUsableOnes() throws Exception {
        RSAKey sig = new RSAKey.Builder(TestKeys.rsaPublic()).keyID("sig").build();
        RSAKey enc = new RSAKey.Builder((java.security.interfaces.RSAPublicKey) TestKeys.RSA_OTHER.getPublic())
                .keyID("enc").keyUse(com.nimbusds.jose.jwk.KeyUse.ENCRYPTION).build();
        com.nimbusds.jose.jwk.OctetSequenceKey tooShort = new com.nimbusds.jose.jwk.OctetSequenceKey.Builder(new byte[8]).keyID("short").build();
        JwtVerifier v = JwtVerifier.builder().jwkSet(new JWKSet(List.of(sig, enc, tooShort)))
                .clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();
        assertThat(v.toString()).contains("RSA(kid=sig)").doesNotContain("kid=enc", "kid=short");
        assertThat(v.verify(rs256(goodClaims().build(), TestKeys.rsaPrivate(), "sig")).getSubject()).isEqualTo("device-1");
        assertThatThrownBy(() -> JwtVerifier.builder().jwkSet(new JWKSet(List.of(enc, tooShort))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no usable signing key")
                .hasMessageContaining("hmacSecret must have at least 32 bytes");
    }
}
