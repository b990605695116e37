package dev.tether.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.jspecify.annotations.Nullable;

import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Signs JWTs from a claims template: the fixed claims (issuer, subject, audience, custom claims)
 * come from the template, and every {@link #sign(Instant)} adds a fresh {@code iat}, {@code exp}
 * ({@code iat} plus the lifetime) and a random {@code jti}.
 *
 * <pre>{@code
 * JwtSigner signer = JwtSigner.builder()
 *         .rs256(privateKey)
 *         .keyId("device-key-1")
 *         .issuer("device-42").subject("device-42").audience("mqtt-broker")
 *         .claim("scope", "telemetry:write")
 *         .lifetime(Duration.ofMinutes(10))
 *         .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe. Its {@code toString()} shows the algorithm and the template's claim
 * names, never key material or a token.
 */
public final class JwtSigner {

    /** Default token lifetime: 5 minutes. */
    public static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(5);

    private static final Set<String> GENERATED = Set.of("iat", "exp", "jti");

    private final JWSAlgorithm algorithm;
    private final JWSSigner signer;
    private final @Nullable String keyId;
    private final @Nullable String issuer;
    private final @Nullable String subject;
    private final List<String> audience;
    private final Map<String, Object> claims;
    private final Duration lifetime;

    private final Builder settings;

    private JwtSigner(Builder b) {
        this.settings = new Builder(b);
        this.algorithm = Objects.requireNonNull(b.algorithm);
        this.signer = Objects.requireNonNull(b.signer);
        this.keyId = b.keyId;
        this.issuer = b.issuer;
        this.subject = b.subject;
        this.audience = List.copyOf(b.audience);
        this.claims = Map.copyOf(b.claims);
        this.lifetime = b.lifetime;
    }

    /** @return a builder; choose a key with {@code hs256}, {@code rs256}, {@code es256} or {@code jwk} */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this signer's settings */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /** @return the signing algorithm */
    public JWSAlgorithm algorithm() {
        return algorithm;
    }

    /** @return the lifetime of each token ({@code exp - iat}) */
    public Duration lifetime() {
        return lifetime;
    }

    /** @return the key id put in the header, if any */
    public Optional<String> keyId() {
        return Optional.ofNullable(keyId);
    }

    /**
     * Signs a new token issued at {@code now}, with a fresh {@code jti}.
     *
     * @param now the issue time ({@code iat}); {@code exp} is {@code now} plus the lifetime. JWT
     *            times have whole seconds: {@code now} is truncated to the second.
     * @return the compact serialized token
     * @throws IllegalStateException if signing fails (a broken key provider); the message holds no key
     */
    public String sign(Instant now) {
        Objects.requireNonNull(now, "now");
        Instant iat = Instant.ofEpochSecond(now.getEpochSecond());
        JWTClaimsSet.Builder cb = new JWTClaimsSet.Builder();
        claims.forEach(cb::claim);
        if (issuer != null) {
            cb.issuer(issuer);
        }
        if (subject != null) {
            cb.subject(subject);
        }
        if (!audience.isEmpty()) {
            cb.audience(audience);
        }
        cb.issueTime(Date.from(iat))
                .expirationTime(Date.from(iat.plus(lifetime)))
                .jwtID(UUID.randomUUID().toString());
        JWSHeader header = new JWSHeader.Builder(algorithm).type(JOSEObjectType.JWT).keyID(keyId).build();
        SignedJWT jwt = new SignedJWT(header, cb.build());
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a " + algorithm + " JWT failed: " + e.getClass().getSimpleName(), e);
        }
        return jwt.serialize();
    }

    @Override
    public String toString() {
        return "JwtSigner{algorithm=" + algorithm + ", keyId=" + (keyId == null ? "none" : keyId)
                + ", issuer=" + (issuer == null ? "none" : issuer) + ", subject=" + (subject == null ? "none" : subject)
                + ", audience=" + audience + ", claims=" + claims.keySet() + ", lifetime=" + lifetime + "}";
    }

    /**
     * Builds a {@link JwtSigner}. Every setter validates at once; {@link #build()} needs a key.
     */
    public static final class Builder {

        private @Nullable JWSAlgorithm algorithm;
        private @Nullable JWSSigner signer;
        private @Nullable String keyId;
        private @Nullable String issuer;
        private @Nullable String subject;
        private final List<String> audience = new ArrayList<>();
        private final Map<String, Object> claims = new LinkedHashMap<>();
        private Duration lifetime = DEFAULT_LIFETIME;

        private Builder(Builder b) {
            algorithm = b.algorithm;
            signer = b.signer;
            keyId = b.keyId;
            issuer = b.issuer;
            subject = b.subject;
            audience.addAll(b.audience);
            claims.putAll(b.claims);
            lifetime = b.lifetime;
        }

        private Builder() {
        }

        /**
         * Signs with HS256 and a shared secret.
         *
         * @param secret at least 32 bytes (256 bits); copied
         * @return this builder
         * @throws IllegalArgumentException if the secret is too short
         */
        public Builder hs256(byte[] secret) {
            Objects.requireNonNull(secret, "secret");
            if (secret.length < 32) {
                throw new IllegalArgumentException("hs256 secret must have at least 32 bytes (256 bits), but had " + secret.length);
            }
            try {
                return use(JWSAlgorithm.HS256, new MACSigner(Arrays.copyOf(secret, secret.length)));
            } catch (JOSEException e) {
                throw new IllegalArgumentException("hs256 secret is not usable: " + e.getMessage(), e);
            }
        }

        /**
         * Signs with RS256.
         *
         * @param key an RSA private key of at least 2048 bits
         * @return this builder
         * @throws IllegalArgumentException if the key is shorter
         */
        public Builder rs256(RSAPrivateKey key) {
            Objects.requireNonNull(key, "key");
            if (key.getModulus().bitLength() < 2048) {
                throw new IllegalArgumentException("rs256 key must have at least 2048 bits, but had " + key.getModulus().bitLength());
            }
            return use(JWSAlgorithm.RS256, new RSASSASigner(key));
        }

        /**
         * Signs with ES256.
         *
         * @param key an EC private key on curve P-256
         * @return this builder
         * @throws IllegalArgumentException if the key is on another curve
         */
        public Builder es256(ECPrivateKey key) {
            Objects.requireNonNull(key, "key");
            Curve curve = Curve.forECParameterSpec(key.getParams());
            if (!Curve.P_256.equals(curve)) {
                throw new IllegalArgumentException("es256 key must be on curve P-256, but was " + curve);
            }
            try {
                return use(JWSAlgorithm.ES256, new ECDSASigner(key));
            } catch (JOSEException e) {
                throw new IllegalArgumentException("es256 key is not usable: " + e.getMessage(), e);
            }
        }

        /**
         * Signs with a private JWK: an {@code oct} key signs HS256, an RSA key RS256, an EC P-256 key
         * ES256, unless the JWK names its {@code alg} (HS256, RS256 or ES256). The JWK's {@code kid},
         * if any, becomes the header's key id unless {@link #keyId(String)} sets another.
         *
         * @param jwk a JWK with its private part
         * @return this builder
         * @throws IllegalArgumentException if the JWK has no private part or does not fit these algorithms
         */
        public Builder jwk(JWK jwk) {
            Objects.requireNonNull(jwk, "jwk");
            if (!jwk.isPrivate()) {
                throw new IllegalArgumentException("jwk " + jwk.getKeyID() + " has no private part: a signer needs one");
            }
            try {
                if (jwk instanceof OctetSequenceKey oct) {
                    hs256(oct.toByteArray());
                } else if (jwk instanceof RSAKey rsa) {
                    rs256(rsa.toRSAPrivateKey());
                } else if (jwk instanceof ECKey ec) {
                    es256(ec.toECPrivateKey());
                } else {
                    throw new IllegalArgumentException("jwk of type " + jwk.getKeyType() + " is not supported; use oct, RSA or EC");
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("jwk " + jwk.getKeyID() + " is not usable: " + e.getMessage(), e);
            }
            JWSAlgorithm chosen = Objects.requireNonNull(algorithm);
            if (jwk.getAlgorithm() != null && !jwk.getAlgorithm().getName().equals(chosen.getName())) {
                throw new IllegalArgumentException("jwk declares alg " + jwk.getAlgorithm() + " but its key type signs " + chosen);
            }
            if (keyId == null) {
                keyId = jwk.getKeyID();
            }
            return this;
        }

        private Builder use(JWSAlgorithm alg, JWSSigner s) {
            this.algorithm = alg;
            this.signer = s;
            return this;
        }

        /**
         * @param keyId the {@code kid} header, so the verifier can pick the key; default none
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder keyId(String keyId) {
            this.keyId = nonBlank("keyId", keyId);
            return this;
        }

        /**
         * @param issuer the {@code iss} claim; default none
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder issuer(String issuer) {
            this.issuer = nonBlank("issuer", issuer);
            return this;
        }

        /**
         * @param subject the {@code sub} claim; default none
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder subject(String subject) {
            this.subject = nonBlank("subject", subject);
            return this;
        }

        /**
         * @param audience the {@code aud} claim values, replacing earlier ones; default none
         * @return this builder
         * @throws IllegalArgumentException if one is blank
         */
        public Builder audience(String... audience) {
            Objects.requireNonNull(audience, "audience");
            List<String> list = new ArrayList<>();
            for (String a : audience) {
                list.add(nonBlank("audience", a));
            }
            this.audience.clear();
            this.audience.addAll(list);
            return this;
        }

        /**
         * Adds a custom claim to the template.
         *
         * @param name  the claim name; not {@code iat}, {@code exp} or {@code jti} (generated per token),
         *              nor {@code iss}, {@code sub}, {@code aud} (use their setters)
         * @param value a JSON-compatible value: string, number, boolean, list or map of those
         * @return this builder
         * @throws IllegalArgumentException for a reserved name
         */
        public Builder claim(String name, Object value) {
            nonBlank("claim name", name);
            Objects.requireNonNull(value, "claim value");
            if (GENERATED.contains(name)) {
                throw new IllegalArgumentException("claim '" + name + "' is generated for every token and cannot be set");
            }
            if (Set.of("iss", "sub", "aud").contains(name)) {
                throw new IllegalArgumentException("claim '" + name + "' has its own setter: use issuer(..), subject(..) or audience(..)");
            }
            claims.put(name, value);
            return this;
        }

        /**
         * @param lifetime {@code exp - iat} of each token; default {@link #DEFAULT_LIFETIME}
         * @return this builder
         * @throws IllegalArgumentException if shorter than one second or longer than 30 days
         */
        public Builder lifetime(Duration lifetime) {
            Objects.requireNonNull(lifetime, "lifetime");
            if (lifetime.compareTo(Duration.ofSeconds(1)) < 0 || lifetime.compareTo(Duration.ofDays(30)) > 0) {
                throw new IllegalArgumentException("lifetime must be between 1 s and 30 days, but was " + lifetime);
            }
            this.lifetime = lifetime;
            return this;
        }

        /**
         * @return the signer
         * @throws IllegalArgumentException if no key was given
         */
        public JwtSigner build() {
            if (signer == null) {
                throw new IllegalArgumentException("key must be given: call hs256(..), rs256(..), es256(..) or jwk(..)");
            }
            return new JwtSigner(this);
        }

        private static String nonBlank(String field, @Nullable String value) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(field + " must not be blank, but was " + (value == null ? "null" : "'" + value + "'"));
            }
            return value;
        }
    }
}
