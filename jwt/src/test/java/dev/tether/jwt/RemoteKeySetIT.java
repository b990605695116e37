package dev.tether.jwt;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.jwt.InvalidJwtException.Reason;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.net.ServerSocket;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link JwtVerifier} with keys from a JWK Set URI or an issuer's discovery document, served by a real HTTP server. */
class RemoteKeySetIT {

    private static RSAKey keyA;
    private static RSAKey keyB;
    private static ECKey keyEc;

    private DisposableServer server;
    private final AtomicReference<String> jwks = new AtomicReference<>();
    private final AtomicReference<Integer> status = new AtomicReference<>(200);
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    private final Map<String, String> documents = new ConcurrentHashMap<>();

    @BeforeAll
    static void keys() throws Exception {
        keyA = new RSAKeyGenerator(2048).keyID("key-a").keyUse(KeyUse.SIGNATURE).generate();
        keyB = new RSAKeyGenerator(2048).keyID("key-b").keyUse(KeyUse.SIGNATURE).generate();
        keyEc = new ECKeyGenerator(Curve.P_256).keyID("key-ec").generate();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow(Duration.ofSeconds(5));
        }
    }

    private void start() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .handle((req, res) -> {
                    String path = req.path();
                    hits.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
                    if (path.equals("jwks")) {
                        return res.status(status.get()).header("Content-Type", "application/json").sendString(Mono.just(jwks.get()));
                    }
                    String doc = documents.get(path);
                    if (doc != null) {
                        return res.status(200).header("Content-Type", "application/json").sendString(Mono.just(doc));
                    }
                    return res.status(404).send();
                })
                .bindNow();
    }

    private String base() {
        return "http://127.0.0.1:" + server.port();
    }

    private int hitsOf(String path) {
        return hits.computeIfAbsent(path, p -> new AtomicInteger()).get();
    }

    private static String publish(JWK... keys) {
        List<JWK> list = new ArrayList<>();
        for (JWK k : keys) {
            list.add(k.toPublicJWK());
        }
        return new JWKSet(list).toString();
    }

    private static String sign(JWK key, String issuer) throws Exception {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject("device-1").audience("broker")
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(300))).jwtID(UUID.randomUUID().toString())
                .build();
        SignedJWT jwt;
        if (key instanceof RSAKey rsa) {
            jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
            jwt.sign(new RSASSASigner(rsa));
        } else {
            jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
            jwt.sign(new ECDSASigner((ECKey) key));
        }
        return jwt.serialize();
    }

    private static InvalidJwtException refusal(JwtVerifier v, String token) {
        try {
            v.verify(token);
        } catch (InvalidJwtException e) {
            return e;
        }
        throw new AssertionError("the token was accepted");
    }

    @Test
    void followsAKeyRotationWithOneFetchAndRefusesUnknownKeysRateLimited() throws Exception {
        jwks.set(publish(keyA, keyEc));
        start();
        JwtVerifier verifier = JwtVerifier.builder().jwkSetUri(base() + "/jwks").audience("broker").build();

        assertThat(verifier.verify(sign(keyA, "any")).getSubject()).isEqualTo("device-1");
        assertThat(verifier.verify(sign(keyEc, "any")).getSubject()).isEqualTo("device-1");
        assertThat(hitsOf("jwks")).as("one fetch, then the cache").isEqualTo(1);

        // The provider publishes key B and starts signing with it: one refresh, then accepted.
        jwks.set(publish(keyA, keyB));
        assertThat(verifier.verify(sign(keyB, "any")).getSubject()).isEqualTo("device-1");
        assertThat(hitsOf("jwks")).isEqualTo(2);
        assertThat(verifier.verify(sign(keyA, "any")).getSubject()).as("the old key stays usable").isEqualTo("device-1");

        // A flood of tokens naming keys nobody published: no further fetch within the interval.
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("stranger").generate();
        for (int i = 0; i < 20; i++) {
            InvalidJwtException e = refusal(verifier, sign(new RSAKey.Builder(stranger).keyID("unknown-" + i).build(), "any"));
            assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY);
            assertThat(e.getMessage()).contains("unknown-" + i).contains(base() + "/jwks").contains("minRefreshInterval");
        }
        assertThat(hitsOf("jwks")).as("rate limited: the regular fetch and one refresh per interval").isEqualTo(2);
        assertThat(verifier.toString()).contains("/jwks").doesNotContain(keyA.getModulus().toString());
    }

    @Test
    void anUnknownKeyAfterARefreshSaysSo() throws Exception {
        jwks.set(publish(keyA));
        start();
        JwtVerifier verifier = JwtVerifier.builder().jwkSetUri(base() + "/jwks").build();
        InvalidJwtException e = refusal(verifier, sign(keyB, "any"));
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(e.getMessage()).contains("'key-b'").contains("RS256").contains("even after a refresh");
        assertThat(hitsOf("jwks")).isEqualTo(2);
    }

    @Test
    void findsTheKeySetThroughOpenIdDiscoveryAndChecksTheIssuer() throws Exception {
        jwks.set(publish(keyA));
        start();
        String issuer = base() + "/realms/devices";
        documents.put("realms/devices/.well-known/openid-configuration",
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + base() + "/jwks\",\"token_endpoint\":\"" + issuer + "/token\"}");
        JwtVerifier verifier = JwtVerifier.builder().issuerUri(issuer).build();
        assertThat(hitsOf("realms/devices/.well-known/openid-configuration")).as("nothing fetched before use").isZero();
        assertThat(verifier.verify(sign(keyA, issuer)).getIssuer()).isEqualTo(issuer);
        assertThat(hitsOf("realms/devices/.well-known/openid-configuration")).isEqualTo(1);

        InvalidJwtException e = refusal(verifier, sign(keyA, "https://someone.else"));
        assertThat(e.reason()).isEqualTo(Reason.WRONG_ISSUER);
    }

    @Test
    void findsTheKeySetThroughAuthorizationServerMetadata() throws Exception {
        jwks.set(publish(keyA));
        start();
        String issuer = base() + "/tenant-1";
        documents.put(".well-known/oauth-authorization-server/tenant-1",
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + base() + "/jwks\"}");
        JwtVerifier verifier = JwtVerifier.builder().issuerUri(issuer).build();
        assertThat(verifier.verify(sign(keyA, issuer)).getSubject()).isEqualTo("device-1");
        assertThat(hitsOf("tenant-1/.well-known/openid-configuration")).as("OpenID Connect tried first").isEqualTo(1);
    }

    @Test
    void aDiscoveryDocumentNamingAnotherIssuerIsRefused() throws Exception {
        jwks.set(publish(keyA));
        start();
        String issuer = base() + "/realms/devices";
        documents.put("realms/devices/.well-known/openid-configuration",
                "{\"issuer\":\"https://evil.example\",\"jwks_uri\":\"" + base() + "/jwks\"}");
        JwtVerifier verifier = JwtVerifier.builder().issuerUri(issuer).build();
        InvalidJwtException e = refusal(verifier, sign(keyA, issuer));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).contains("names issuer 'https://evil.example'").contains(issuer);
        assertThat(hitsOf("jwks")).isZero();
    }

    @Test
    void anUnreachableProviderIsNamedWithTheProblem() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        JwtVerifier verifier = JwtVerifier.builder().jwkSetUri("http://127.0.0.1:" + port + "/jwks")
                .keySetSettings(KeySetSettings.builder().httpTimeout(Duration.ofSeconds(2)).build()).build();
        InvalidJwtException e = refusal(verifier, sign(keyA, "any"));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).contains("http://127.0.0.1:" + port + "/jwks").contains("connection refused");
    }

    @Test
    void aMalformedKeySetNamesTheKeyAndTheField() throws Exception {
        start();
        JwtVerifier verifier = JwtVerifier.builder().jwkSetUri(base() + "/jwks").build();
        jwks.set("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"broken\",\"e\":\"AQAB\"}]}");
        InvalidJwtException e = refusal(verifier, sign(keyA, "any"));
        assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(e.getMessage()).contains("key #0 (kid 'broken')").contains("\"n\"").contains("/jwks");

        JwtVerifier other = JwtVerifier.builder().jwkSetUri(base() + "/jwks").build();
        jwks.set("{\"keys\":{}}");
        assertThat(refusal(other, sign(keyA, "any")).getMessage()).contains("\"keys\" member that is not an array");

        JwtVerifier third = JwtVerifier.builder().jwkSetUri(base() + "/jwks").build();
        jwks.set("<html>maintenance</html>");
        assertThat(refusal(third, sign(keyA, "any")).getMessage()).contains("not a JSON object");
    }

    @Test
    void anOutageKeepsTheLastGoodKeysForABoundedTime() throws Exception {
        jwks.set(publish(keyA));
        start();
        Duration tolerance = Duration.ofMillis(2500);
        JwtVerifier verifier = JwtVerifier.builder().jwkSetUri(base() + "/jwks")
                .keySetSettings(KeySetSettings.builder().cacheTimeToLive(Duration.ofMillis(1000)).refreshAhead(Duration.ofMillis(200))
                        .refreshTimeout(Duration.ofMillis(300)).minRefreshInterval(Duration.ofMillis(500))
                        .outageTolerance(tolerance).build())
                .build();
        String token = sign(keyA, "any");
        verifier.verify(token);
        long goodFetch = System.nanoTime();
        status.set(503);
        int before = hitsOf("jwks");

        // Poll (bounded) until the cache has expired and a refresh met the outage: the old keys still serve.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (hitsOf("jwks") == before && System.nanoTime() < deadline) {
            verifier.verify(token);
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }
        assertThat(hitsOf("jwks")).as("a refresh was tried during the outage").isGreaterThan(before);
        assertThat(verifier.verify(token).getSubject()).isEqualTo("device-1");

        // Then, once the outage outlasts the tolerance, tokens are refused and the message says why.
        InvalidJwtException refused = null;
        while (refused == null && System.nanoTime() < deadline) {
            try {
                verifier.verify(token);
            } catch (InvalidJwtException e) {
                refused = e;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
        }
        assertThat(refused).isNotNull();
        assertThat(Duration.ofNanos(System.nanoTime() - goodFetch)).isGreaterThanOrEqualTo(tolerance.minusMillis(100));
        assertThat(refused.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        assertThat(refused.getMessage()).contains("HTTP 503").contains("/jwks");

        status.set(200);
        long back = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        boolean recovered = false;
        while (!recovered && System.nanoTime() < back) {
            try {
                verifier.verify(token);
                recovered = true;
            } catch (InvalidJwtException e) {
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
            }
        }
        assertThat(recovered).as("accepted again once the provider is back").isTrue();
    }

    @Test
    @SuppressWarnings("deprecation")
    void httpsUsesTheJdkTrustByDefaultAndATrustStoreWhenGiven() throws Exception {
        SelfSignedCertificate cert = new SelfSignedCertificate("localhost");
        try {
            jwks.set(publish(keyA));
            io.netty.handler.ssl.SslContext tls = SslContextBuilder.forServer(cert.certificate(), cert.privateKey()).build();
            server = HttpServer.create().host("127.0.0.1").port(0)
                    .secure(spec -> spec.sslContext(tls))
                    .handle((req, res) -> res.status(200).header("Content-Type", "application/json").sendString(Mono.just(jwks.get())))
                    .bindNow();
            String uri = "https://localhost:" + server.port() + "/jwks";

            InvalidJwtException e = refusal(JwtVerifier.builder().jwkSetUri(uri).build(), sign(keyA, "any"));
            assertThat(e.reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
            assertThat(e.getMessage()).contains(uri).containsIgnoringCase("certificat");

            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("provider", cert.cert());
            JwtVerifier trusting = JwtVerifier.builder().jwkSetUri(uri)
                    .keySetSettings(KeySetSettings.builder().trustStore(trust).build()).build();
            assertThat(trusting.verify(sign(keyA, "any")).getSubject()).isEqualTo("device-1");

            // The host name is checked all the same: the certificate is for localhost, not 127.0.0.1.
            JwtVerifier byAddress = JwtVerifier.builder().jwkSetUri("https://127.0.0.1:" + server.port() + "/jwks")
                    .keySetSettings(KeySetSettings.builder().trustStore(trust).build()).build();
            assertThat(refusal(byAddress, sign(keyA, "any")).reason()).isEqualTo(Reason.KEYS_UNAVAILABLE);
        } finally {
            cert.delete();
        }
    }

    @Test
    void configurationIsCheckedAtOnce() {
        assertThatThrownBy(() -> JwtVerifier.builder().jwkSetUri("ftp://x/jwks")).hasMessageContaining("jwkSetUri")
                .hasMessageContaining("ftp://x/jwks");
        assertThatThrownBy(() -> JwtVerifier.builder().jwkSetUri("https://a/jwks").issuerUri("https://a").build())
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> KeySetSettings.builder().cacheTimeToLive(Duration.ofSeconds(10)).build())
                .hasMessageContaining("refreshAhead").hasMessageContaining("cacheTimeToLive");
        assertThatThrownBy(() -> KeySetSettings.builder().outageTolerance(Duration.ofMinutes(1)).build())
                .hasMessageContaining("outageTolerance");
        assertThat(KeySetSettings.defaults().toString()).contains("cacheTimeToLive=PT5M").contains("JDK default");
    }
}
