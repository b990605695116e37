package dev.tether.jwt;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.jwt.InvalidJwtException.Reason;
import dev.tether.jwt.internal.KeySetException;
import dev.tether.jwt.internal.RemoteKeySet;
import org.jspecify.annotations.Nullable;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Checks a bearer JWT: its structure, its algorithm, its signature with a configured key or JWK set,
 * {@code exp}/{@code nbf}/{@code iat} against a clock with a skew allowance, and optionally its
 * issuer and audience. A refusal is an {@link InvalidJwtException} whose
 * {@linkplain InvalidJwtException#reason() reason} says exactly what was wrong.
 *
 * <p>Safe by default: {@code alg: none} is never accepted; an algorithm is accepted only if it
 * belongs to the family of a configured key (so an HS256 token "signed" with an RSA public key is
 * refused as {@link Reason#ALGORITHM_NOT_ALLOWED}); tokens without {@code exp} are refused unless
 * {@link Builder#requireExpiry(boolean)} says otherwise; the signature is checked before any claim
 * is trusted.
 *
 * <pre>{@code
 * JwtVerifier verifier = JwtVerifier.builder()
 *         .publicKey(rsaPublicKey)
 *         .issuer("https://issuer.example")
 *         .audience("mqtt-broker")
 *         .build();
 * JWTClaimsSet claims = verifier.verify(token); // throws InvalidJwtException
 * }</pre>
 *
 * <p>Keys can also come from an identity provider: {@link Builder#jwkSetUri(String)} takes its JWK
 * Set URI, {@link Builder#issuerUri(String)} finds it through the issuer's discovery document
 * ({@code /.well-known/openid-configuration}, then {@code /.well-known/oauth-authorization-server})
 * and requires that issuer in every token. The key set is cached and refreshed as
 * {@link KeySetSettings} says (Nimbus's remote key source: refresh ahead of expiry, a rate-limited
 * refresh when a token names an unknown {@code kid}, the last good keys kept during an outage).
 * Such a verification may block while the key set is fetched (the first time, and for an unknown
 * key id); run it off an event loop when that matters.
 *
 * <pre>{@code
 * JwtVerifier verifier = JwtVerifier.builder()
 *         .issuerUri("https://idp.example/realms/devices")
 *         .audience("broker")
 *         .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe. Its {@code toString()} shows no key material.
 */
public final class JwtVerifier {

    /** Default allowance for clock differences between issuer and verifier: 60 s. */
    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);
    /** Default limit on the length of a token, in characters: 8192. Longer input is refused unparsed. */
    public static final int DEFAULT_MAX_TOKEN_LENGTH = 8192;

    private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]*");

    /** Algorithms a remote key set may serve: the asymmetric ones (a published set never holds secrets). */
    private static final Set<JWSAlgorithm> REMOTE_ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384,
            JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256,
            JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    private static final int MAX_CONVERTED_KEYS = 256;

    private final List<VerificationKey> keys;
    private final @Nullable RemoteKeySet remote;
    private final Map<JWK, VerificationKey> converted = new ConcurrentHashMap<>();
    private final Set<JWSAlgorithm> algorithms;
    private final @Nullable String issuer;
    private final Set<String> audiences;
    private final Duration clockSkew;
    private final boolean requireExpiry;
    private final int maxTokenLength;
    private final Clock clock;

    private final Builder settings;

    private JwtVerifier(Builder b) {
        this.settings = new Builder(b);
        this.keys = List.copyOf(b.keys);
        Set<JWSAlgorithm> supported = new LinkedHashSet<>();
        for (VerificationKey k : keys) {
            supported.addAll(k.algorithms);
        }
        if (b.jwkSetUri != null) {
            this.remote = RemoteKeySet.fromJwkSetUri(b.jwkSetUri, b.keySetSettings);
        } else if (b.issuerUri != null) {
            this.remote = RemoteKeySet.fromIssuer(b.issuerUri, b.keySetSettings);
        } else {
            this.remote = null;
        }
        if (remote != null) {
            supported.addAll(REMOTE_ALGORITHMS);
        }
        if (b.algorithms != null) {
            supported.retainAll(b.algorithms);
            if (supported.isEmpty()) {
                throw new IllegalArgumentException("algorithms " + b.algorithms + " match none of the configured keys ("
                        + keys + "): no token could ever be accepted");
            }
        }
        this.algorithms = Collections.unmodifiableSet(supported);
        this.issuer = b.issuer;
        this.audiences = Set.copyOf(b.audiences);
        this.clockSkew = b.clockSkew;
        this.requireExpiry = b.requireExpiry;
        this.maxTokenLength = b.maxTokenLength;
        this.clock = b.clock;
    }

    /** @return a builder; give at least one key */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this verifier's settings */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /** @return the algorithms this verifier accepts */
    public Set<JWSAlgorithm> algorithms() {
        return algorithms;
    }

    /**
     * Verifies a token against the configured clock.
     *
     * @param token the compact serialized JWT (without a {@code Bearer} prefix)
     * @return the verified claims
     * @throws InvalidJwtException if the token must be refused; its reason says why
     */
    public JWTClaimsSet verify(String token) throws InvalidJwtException {
        return verify(token, clock.instant());
    }

    /**
     * Verifies the value of an HTTP {@code Authorization} header of the form {@code Bearer <token>}.
     *
     * @param authorization the header value; the scheme is matched case-insensitively
     * @return the verified claims
     * @throws InvalidJwtException {@link Reason#MALFORMED} if the value is not a bearer credential,
     *                             otherwise as {@link #verify(String)}
     */
    public JWTClaimsSet verifyAuthorization(@Nullable String authorization) throws InvalidJwtException {
        if (authorization == null || authorization.length() < 7
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new InvalidJwtException(Reason.MALFORMED, "the Authorization value is not of the form 'Bearer <token>'");
        }
        return verify(authorization.substring(7).trim());
    }

    /**
     * Verifies a token as of the given instant (for callers with their own clock, e.g. a Reactor
     * scheduler in virtual time).
     *
     * @param token the compact serialized JWT
     * @param now   the current time
     * @return the verified claims
     * @throws InvalidJwtException if the token must be refused; its reason says why
     */
    public JWTClaimsSet verify(@Nullable String token, Instant now) throws InvalidJwtException {
        Objects.requireNonNull(now, "now");
        SignedJWT jwt = parseSigned(token, maxTokenLength);
        JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
        if (!algorithms.contains(alg)) {
            throw new InvalidJwtException(Reason.ALGORITHM_NOT_ALLOWED, "the token is signed with " + alg
                    + " but this verifier accepts only " + algorithms + " for its keys");
        }
        verifySignature(jwt, alg);
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new InvalidJwtException(Reason.MALFORMED, "the payload is not a JSON claims set");
        }
        checkTimes(claims, now, clockSkew, clockSkew, requireExpiry);
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            throw new InvalidJwtException(Reason.WRONG_ISSUER, "expected issuer '" + issuer + "' but the token has "
                    + describe(claims.getIssuer()));
        }
        if (!audiences.isEmpty()) {
            List<String> aud = claims.getAudience();
            if (aud == null || aud.stream().noneMatch(audiences::contains)) {
                throw new InvalidJwtException(Reason.WRONG_AUDIENCE, "expected one of the audiences " + audiences
                        + " but the token has " + (aud == null || aud.isEmpty() ? "none" : describe(String.join(",", aud))));
            }
        }
        return claims;
    }

    private void verifySignature(SignedJWT jwt, JWSAlgorithm alg) throws InvalidJwtException {
        String kid = jwt.getHeader().getKeyID();
        List<VerificationKey> candidates = new ArrayList<>();
        for (VerificationKey k : keys) {
            if (k.algorithms.contains(alg) && (kid == null || k.kid == null || kid.equals(k.kid))) {
                candidates.add(k);
            }
        }
        if (remote != null && REMOTE_ALGORITHMS.contains(alg)) {
            addRemoteCandidates(remote, kid, alg, candidates);
        }
        if (candidates.isEmpty()) {
            if (kid != null) {
                throw new InvalidJwtException(Reason.UNKNOWN_KEY, "the token names key id " + describe(kid)
                        + " but no configured " + alg + " key has it");
            }
            throw new InvalidJwtException(Reason.ALGORITHM_NOT_ALLOWED, "no configured key can verify " + alg);
        }
        byte[] signature = jwt.getSignature().decode();
        boolean lengthSeen = false;
        for (VerificationKey k : candidates) {
            int expected = k.signatureLength(alg);
            if (signature.length < expected) {
                continue;
            }
            lengthSeen = true;
            try {
                if (signature.length == expected && jwt.verify(k.verifier)) {
                    return;
                }
            } catch (JOSEException | IllegalStateException e) {
                throw new InvalidJwtException(Reason.BAD_SIGNATURE, "the signature could not be checked: "
                        + e.getClass().getSimpleName());
            }
        }
        if (!lengthSeen) {
            throw new InvalidJwtException(Reason.TRUNCATED, "the " + alg + " signature has only " + signature.length
                    + " bytes, fewer than the key needs");
        }
        throw new InvalidJwtException(Reason.BAD_SIGNATURE, "the " + alg + " signature does not verify with "
                + (candidates.size() == 1 ? "the configured key" : "any of the " + candidates.size() + " candidate keys"));
    }

    private void addRemoteCandidates(RemoteKeySet set, @Nullable String kid, JWSAlgorithm alg, List<VerificationKey> candidates)
            throws InvalidJwtException {
        List<JWK> found;
        try {
            found = set.select(kid, alg);
        } catch (KeySetException e) {
            if (!candidates.isEmpty()) {
                return; // a configured key may still verify it
            }
            throw new InvalidJwtException(e.kind() == KeySetException.Kind.UNKNOWN_KEY ? Reason.UNKNOWN_KEY : Reason.KEYS_UNAVAILABLE,
                    e.getMessage() == null ? e.toString() : e.getMessage());
        }
        List<String> unusable = new ArrayList<>();
        for (JWK jwk : found) {
            VerificationKey k = converted.get(jwk);
            if (k == null) {
                try {
                    k = Builder.fromJwk(jwk);
                } catch (IllegalArgumentException e) {
                    unusable.add(e.getMessage());
                    continue;
                }
                if (converted.size() >= MAX_CONVERTED_KEYS) {
                    converted.clear();
                }
                converted.put(jwk, k);
            }
            if (k.algorithms.contains(alg)) {
                candidates.add(k);
            }
        }
        if (candidates.isEmpty()) {
            throw new InvalidJwtException(Reason.UNKNOWN_KEY, "the key set " + set + " has " + found.size()
                    + " matching key(s) but none is usable: " + unusable);
        }
    }

    /**
     * Parses a compact JWS, refusing everything that is not one, with the reason.
     */
    static SignedJWT parseSigned(@Nullable String token, int maxLength) throws InvalidJwtException {
        if (token == null || token.isBlank()) {
            throw new InvalidJwtException(Reason.MALFORMED, "the token is empty");
        }
        if (token.length() > maxLength) {
            throw new InvalidJwtException(Reason.MALFORMED, "the token has " + token.length()
                    + " characters, more than the limit of " + maxLength);
        }
        String[] parts = token.split("\\.", -1);
        for (String part : parts) {
            if (!BASE64URL.matcher(part).matches()) {
                throw new InvalidJwtException(Reason.MALFORMED, "the token is not made of base64url parts separated by dots");
            }
        }
        Header header;
        try {
            header = Header.parse(new Base64URL(parts[0]));
        } catch (ParseException | RuntimeException e) {
            throw new InvalidJwtException(Reason.MALFORMED, "the header is not a base64url JSON JOSE header");
        }
        if (header instanceof PlainHeader || Algorithm.NONE.equals(header.getAlgorithm())) {
            throw new InvalidJwtException(Reason.UNSIGNED, "the token is unsecured (alg: none)");
        }
        if (header instanceof JWEHeader) {
            throw new InvalidJwtException(Reason.MALFORMED, "the token is encrypted (JWE); a signed JWT (JWS) is needed");
        }
        if (!(header instanceof JWSHeader)) {
            throw new InvalidJwtException(Reason.MALFORMED, "the header is not a JWS header");
        }
        if (parts.length < 3 || parts[2].isEmpty()) {
            throw new InvalidJwtException(Reason.TRUNCATED, "a signed JWT has three parts, header.payload.signature, "
                    + "but this one " + (parts.length < 3 ? "has " + parts.length : "has an empty signature"));
        }
        if (parts.length > 3) {
            throw new InvalidJwtException(Reason.MALFORMED, "a signed JWT has three parts, but this one has " + parts.length);
        }
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            jwt.getJWTClaimsSet(); // parsing is bounded by the length limit; nothing in it is trusted before the signature
            return jwt;
        } catch (ParseException | RuntimeException e) {
            throw new InvalidJwtException(Reason.MALFORMED, "the payload is not a JSON claims set");
        }
    }

    /**
     * Checks {@code exp} (with {@code skew}), {@code nbf} and {@code iat} (with {@code earlySkew})
     * against {@code now}.
     */
    static void checkTimes(JWTClaimsSet claims, Instant now, Duration skew, Duration earlySkew, boolean requireExpiry)
            throws InvalidJwtException {
        var exp = claims.getExpirationTime();
        if (exp == null) {
            if (requireExpiry) {
                throw new InvalidJwtException(Reason.MISSING_CLAIM, "the token has no expiry (exp)");
            }
        } else if (!now.isBefore(exp.toInstant().plus(skew))) {
            throw new InvalidJwtException(Reason.EXPIRED, "the token expired at " + exp.toInstant()
                    + ", " + Duration.between(exp.toInstant(), now).toMillis() + " ms before " + now
                    + " (clock skew allowed: " + skew.toMillis() + " ms)");
        }
        var nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(earlySkew).isBefore(nbf.toInstant())) {
            throw new InvalidJwtException(Reason.NOT_YET_VALID, "the token is not valid before " + nbf.toInstant()
                    + " and it is " + now + " (clock skew allowed: " + earlySkew.toMillis() + " ms)");
        }
        var iat = claims.getIssueTime();
        if (iat != null && now.plus(earlySkew).isBefore(iat.toInstant())) {
            throw new InvalidJwtException(Reason.NOT_YET_VALID, "the token claims to be issued at " + iat.toInstant()
                    + ", in the future of " + now + " (clock skew allowed: " + earlySkew.toMillis() + " ms)");
        }
    }

    /** Quotes untrusted text from a token for a message: bounded length, printable characters only. */
    static String describe(@Nullable String untrusted) {
        if (untrusted == null) {
            return "none";
        }
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(untrusted.length(), 64);
        for (int i = 0; i < n; i++) {
            char c = untrusted.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.append(untrusted.length() > 64 ? "...'" : "'").toString();
    }

    @Override
    public String toString() {
        return "JwtVerifier{keys=" + keys + (remote == null ? "" : ", remote=" + remote) + ", algorithms=" + algorithms + ", issuer=" + (issuer == null ? "any" : issuer)
                + ", audiences=" + (audiences.isEmpty() ? "any" : audiences) + ", clockSkew=" + clockSkew
                + ", requireExpiry=" + requireExpiry + "}";
    }

    /** One key the verifier can use, with the algorithms it may verify. */
    private static final class VerificationKey {
        final @Nullable String kid;
        final String type;
        final Set<JWSAlgorithm> algorithms;
        final JWSVerifier verifier;
        final int rsaSignatureLength;

        VerificationKey(@Nullable String kid, String type, Set<JWSAlgorithm> algorithms, JWSVerifier verifier, int rsaSignatureLength) {
            this.kid = kid;
            this.type = type;
            this.algorithms = algorithms;
            this.verifier = verifier;
            this.rsaSignatureLength = rsaSignatureLength;
        }

        int signatureLength(JWSAlgorithm alg) {
            if (JWSAlgorithm.Family.RSA.contains(alg)) {
                return rsaSignatureLength;
            }
            if (JWSAlgorithm.HS256.equals(alg)) {
                return 32;
            }
            if (JWSAlgorithm.HS384.equals(alg)) {
                return 48;
            }
            if (JWSAlgorithm.HS512.equals(alg)) {
                return 64;
            }
            if (JWSAlgorithm.ES256.equals(alg)) {
                return 64;
            }
            if (JWSAlgorithm.ES384.equals(alg)) {
                return 96;
            }
            return JWSAlgorithm.ES512.equals(alg) ? 132 : 0;
        }

        @Override
        public String toString() {
            return type + (kid == null ? "" : "(kid=" + kid + ")");
        }
    }

    /**
     * Builds a {@link JwtVerifier}. Every setter validates at once; {@link #build()} needs at least one key.
     */
    public static final class Builder {

        private final List<VerificationKey> keys = new ArrayList<>();
        private @Nullable URI jwkSetUri;
        private @Nullable String issuerUri;
        private KeySetSettings keySetSettings = KeySetSettings.defaults();
        private @Nullable Set<JWSAlgorithm> algorithms;
        private @Nullable String issuer;
        private final Set<String> audiences = new LinkedHashSet<>();
        private Duration clockSkew = DEFAULT_CLOCK_SKEW;
        private boolean requireExpiry = true;
        private int maxTokenLength = DEFAULT_MAX_TOKEN_LENGTH;
        private Clock clock = Clock.systemUTC();

        private Builder(Builder b) {
            keys.addAll(b.keys);
            jwkSetUri = b.jwkSetUri;
            issuerUri = b.issuerUri;
            keySetSettings = b.keySetSettings;
            algorithms = b.algorithms == null ? null : new java.util.LinkedHashSet<>(b.algorithms);
            issuer = b.issuer;
            audiences.addAll(b.audiences);
            clockSkew = b.clockSkew;
            requireExpiry = b.requireExpiry;
            maxTokenLength = b.maxTokenLength;
            clock = b.clock;
        }

        private Builder() {
        }

        /**
         * Adds a shared HMAC secret (HS256, and HS384/HS512 when it is long enough).
         *
         * @param secret the secret, at least 32 bytes; copied
         * @return this builder
         * @throws IllegalArgumentException if shorter than 32 bytes
         */
        public Builder hmacSecret(byte[] secret) {
            return hmacSecret(null, secret);
        }

        /**
         * Adds a shared HMAC secret that tokens select with a key id.
         *
         * @param keyId  the {@code kid} tokens name, or null to match any
         * @param secret the secret, at least 32 bytes; copied
         * @return this builder
         * @throws IllegalArgumentException if shorter than 32 bytes
         */
        public Builder hmacSecret(@Nullable String keyId, byte[] secret) {
            Objects.requireNonNull(secret, "hmacSecret");
            if (secret.length < 32) {
                throw new IllegalArgumentException("hmacSecret must have at least 32 bytes (256 bits), but had " + secret.length);
            }
            Set<JWSAlgorithm> algs = new LinkedHashSet<>();
            algs.add(JWSAlgorithm.HS256);
            if (secret.length >= 48) {
                algs.add(JWSAlgorithm.HS384);
            }
            if (secret.length >= 64) {
                algs.add(JWSAlgorithm.HS512);
            }
            try {
                keys.add(new VerificationKey(keyId, "HMAC", Set.copyOf(algs), new MACVerifier(Arrays.copyOf(secret, secret.length)), 0));
            } catch (JOSEException e) {
                throw new IllegalArgumentException("hmacSecret is not usable: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * Adds an RSA or EC (P-256, P-384, P-521) public key.
         *
         * @param key the public key
         * @return this builder
         * @throws IllegalArgumentException for another key type or curve
         */
        public Builder publicKey(PublicKey key) {
            return publicKey(null, key);
        }

        /**
         * Adds an RSA or EC public key that tokens select with a key id.
         *
         * @param keyId the {@code kid} tokens name, or null to match any
         * @param key   the public key
         * @return this builder
         * @throws IllegalArgumentException for another key type or curve
         */
        public Builder publicKey(@Nullable String keyId, PublicKey key) {
            Objects.requireNonNull(key, "publicKey");
            keys.add(fromPublicKey(keyId, key, null));
            return this;
        }

        /**
         * Adds every usable signing key of a JWK set. Keys marked {@code use: enc} and keys of a type
         * or curve this verifier does not support (for example OKP) are skipped, so a set published
         * by an identity provider can be used as it is; a key's {@code alg} restricts it to that
         * algorithm.
         *
         * @param jwkSet the keys; private parts are not needed
         * @return this builder
         * @throws IllegalArgumentException if the set holds no usable signing key
         */
        public Builder jwkSet(JWKSet jwkSet) {
            Objects.requireNonNull(jwkSet, "jwkSet");
            int before = keys.size();
            List<String> skipped = new ArrayList<>();
            for (JWK jwk : jwkSet.getKeys()) {
                if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
                    continue;
                }
                try {
                    jwk(jwk);
                } catch (IllegalArgumentException e) {
                    skipped.add(e.getMessage());
                }
            }
            if (keys.size() == before) {
                throw new IllegalArgumentException("jwkSet holds no usable signing key (" + jwkSet.getKeys().size()
                        + " keys in the set" + (skipped.isEmpty() ? "" : "; skipped: " + skipped) + ")");
            }
            return this;
        }

        /**
         * Adds one JWK (RSA, EC or octet sequence).
         *
         * @param jwk the key
         * @return this builder
         * @throws IllegalArgumentException for an unsupported key type
         */
        public Builder jwk(JWK jwk) {
            Objects.requireNonNull(jwk, "jwk");
            if (jwk instanceof RSAKey || jwk instanceof ECKey) {
                keys.add(fromJwk(jwk));
                return this;
            }
            if (!(jwk instanceof OctetSequenceKey oct)) {
                throw new IllegalArgumentException("jwk of type " + jwk.getKeyType() + " is not supported; use RSA, EC or oct");
            }
            JWSAlgorithm restrict = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
            int n = keys.size();
            hmacSecret(jwk.getKeyID(), oct.toByteArray());
            if (restrict != null) {
                VerificationKey k = keys.get(n);
                keys.set(n, new VerificationKey(k.kid, k.type, restrictTo(k.algorithms, restrict, jwk.getKeyID()), k.verifier, 0));
            }
            return this;
        }

        /**
         * Takes the signing keys from an identity provider's JWK Set URI, fetched on first use and
         * kept as {@link #keySetSettings(KeySetSettings)} says. Only asymmetric keys (RSA, EC) are
         * used from it.
         *
         * @param jwkSetUri the JWK Set URI, {@code https} (or {@code http} on a trusted network)
         * @return this builder
         * @throws IllegalArgumentException if not an absolute http(s) URI with a host
         */
        public Builder jwkSetUri(String jwkSetUri) {
            Objects.requireNonNull(jwkSetUri, "jwkSetUri");
            URI uri;
            try {
                uri = URI.create(jwkSetUri);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("jwkSetUri must be a valid URI, but was '" + jwkSetUri + "'", e);
            }
            checkHttpUri(uri, "jwkSetUri");
            this.jwkSetUri = uri;
            return this;
        }

        /**
         * Takes the signing keys from the issuer's published key set, found through its discovery
         * document: {@code <issuer>/.well-known/openid-configuration} (OpenID Connect), then
         * {@code <origin>/.well-known/oauth-authorization-server<path>} (RFC 8414). The document
         * must name exactly this issuer, and every token must carry it as {@code iss}. Nothing is
         * fetched before the first verification.
         *
         * @param issuerUri the issuer identifier, for example {@code https://idp.example/realms/devices}
         * @return this builder
         * @throws IllegalArgumentException if not an absolute http(s) URI with a host
         */
        public Builder issuerUri(String issuerUri) {
            Objects.requireNonNull(issuerUri, "issuerUri");
            URI uri;
            try {
                uri = URI.create(issuerUri);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("issuerUri must be a valid URI, but was '" + issuerUri + "'", e);
            }
            checkHttpUri(uri, "issuerUri");
            this.issuerUri = issuerUri;
            this.issuer = issuerUri;
            return this;
        }

        /**
         * @param settings cache, refresh, rate limit, outage tolerance and HTTP settings for a key set
         *                 given by {@link #jwkSetUri(String)} or {@link #issuerUri(String)}; default
         *                 {@link KeySetSettings#defaults()}
         * @return this builder
         */
        public Builder keySetSettings(KeySetSettings settings) {
            this.keySetSettings = Objects.requireNonNull(settings, "keySetSettings");
            return this;
        }

        private static void checkHttpUri(URI uri, String name) {
            String scheme = uri.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http")) || uri.getHost() == null) {
                throw new IllegalArgumentException(name + " must be an absolute http(s) URI with a host, but was '" + uri + "'");
            }
        }

        /**
         * Restricts the accepted algorithms further. By default every algorithm that fits a
         * configured key is accepted (RSA: RS* and PS*; EC: the curve's ES*; HMAC: HS* by secret length).
         *
         * @param algorithms the accepted algorithms
         * @return this builder
         * @throws IllegalArgumentException if empty or containing {@code none}
         */
        public Builder algorithms(JWSAlgorithm... algorithms) {
            Objects.requireNonNull(algorithms, "algorithms");
            if (algorithms.length == 0) {
                throw new IllegalArgumentException("algorithms must not be empty");
            }
            Set<JWSAlgorithm> set = new LinkedHashSet<>();
            for (JWSAlgorithm a : algorithms) {
                Objects.requireNonNull(a, "algorithms[]");
                if ("none".equalsIgnoreCase(a.getName())) {
                    throw new IllegalArgumentException("algorithms must not contain 'none'");
                }
                set.add(a);
            }
            this.algorithms = set;
            return this;
        }

        /**
         * @param issuer the required {@code iss}; default: any
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder issuer(String issuer) {
            Objects.requireNonNull(issuer, "issuer");
            if (issuer.isBlank()) {
                throw new IllegalArgumentException("issuer must not be blank");
            }
            this.issuer = issuer;
            return this;
        }

        /**
         * @param audiences accepted audiences: the token's {@code aud} must contain one; default: any
         * @return this builder
         * @throws IllegalArgumentException if empty or one is blank
         */
        public Builder audience(String... audiences) {
            Objects.requireNonNull(audiences, "audience");
            if (audiences.length == 0) {
                throw new IllegalArgumentException("audience must name at least one audience");
            }
            for (String a : audiences) {
                if (a == null || a.isBlank()) {
                    throw new IllegalArgumentException("audience must not be blank, but was '" + a + "'");
                }
                this.audiences.add(a);
            }
            return this;
        }

        /**
         * @param skew allowance for clock differences on {@code exp}, {@code nbf} and {@code iat};
         *             default {@link #DEFAULT_CLOCK_SKEW}
         * @return this builder
         * @throws IllegalArgumentException if negative or above one hour
         */
        public Builder clockSkew(Duration skew) {
            Objects.requireNonNull(skew, "clockSkew");
            if (skew.isNegative() || skew.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("clockSkew must be between 0 and 1 hour, but was " + skew);
            }
            this.clockSkew = skew;
            return this;
        }

        /**
         * @param require whether a token without {@code exp} is refused; default {@code true}
         * @return this builder
         */
        public Builder requireExpiry(boolean require) {
            this.requireExpiry = require;
            return this;
        }

        /**
         * @param max the longest token accepted, in characters; default {@link #DEFAULT_MAX_TOKEN_LENGTH}
         * @return this builder
         * @throws IllegalArgumentException if below 16
         */
        public Builder maxTokenLength(int max) {
            if (max < 16) {
                throw new IllegalArgumentException("maxTokenLength must be at least 16, but was " + max);
            }
            this.maxTokenLength = max;
            return this;
        }

        /**
         * @param clock the clock for {@link JwtVerifier#verify(String)}; default the system UTC clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @return the verifier
         * @throws IllegalArgumentException if no key was given, or the algorithms fit no key
         */
        public JwtVerifier build() {
            if (jwkSetUri != null && issuerUri != null) {
                throw new IllegalArgumentException("give either jwkSetUri(..) or issuerUri(..), not both: the issuer's "
                        + "discovery document names its JWK Set URI");
            }
            if (keys.isEmpty() && jwkSetUri == null && issuerUri == null) {
                throw new IllegalArgumentException("keys must not be empty: give hmacSecret(..), publicKey(..), jwk(..), jwkSet(..), "
                        + "jwkSetUri(..) or issuerUri(..)");
            }
            return new JwtVerifier(this);
        }

        /** Converts an RSA or EC JWK, honouring its {@code alg}. */
        static VerificationKey fromJwk(JWK jwk) {
            JWSAlgorithm restrict = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
            try {
                if (jwk instanceof RSAKey rsa) {
                    return fromPublicKey(jwk.getKeyID(), rsa.toRSAPublicKey(), restrict);
                }
                if (jwk instanceof ECKey ec) {
                    return fromPublicKey(jwk.getKeyID(), ec.toECPublicKey(), restrict);
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("jwk " + jwk.getKeyID() + " is not usable: " + e.getMessage(), e);
            }
            throw new IllegalArgumentException("jwk of type " + jwk.getKeyType() + " is not supported here; use RSA or EC");
        }

        private static VerificationKey fromPublicKey(@Nullable String kid, PublicKey key, @Nullable JWSAlgorithm restrict) {
            try {
                if (key instanceof RSAPublicKey rsa) {
                    if (rsa.getModulus().bitLength() < 2048) {
                        throw new IllegalArgumentException("publicKey: RSA keys must have at least 2048 bits, but had "
                                + rsa.getModulus().bitLength());
                    }
                    Set<JWSAlgorithm> algs = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
                            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);
                    return new VerificationKey(kid, "RSA", restrictTo(algs, restrict, kid), new RSASSAVerifier(rsa),
                            (rsa.getModulus().bitLength() + 7) / 8);
                }
                if (key instanceof ECPublicKey ec) {
                    Curve curve = Curve.forECParameterSpec(ec.getParams());
                    JWSAlgorithm alg = Curve.P_256.equals(curve) ? JWSAlgorithm.ES256
                            : Curve.P_384.equals(curve) ? JWSAlgorithm.ES384
                            : Curve.P_521.equals(curve) ? JWSAlgorithm.ES512 : null;
                    if (alg == null) {
                        throw new IllegalArgumentException("publicKey: EC curve " + curve + " is not supported; use P-256, P-384 or P-521");
                    }
                    return new VerificationKey(kid, "EC " + curve, restrictTo(Set.of(alg), restrict, kid), new ECDSAVerifier(ec), 0);
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("publicKey is not usable: " + e.getMessage(), e);
            }
            throw new IllegalArgumentException("publicKey must be an RSA or EC key, but was " + key.getAlgorithm());
        }

        private static Set<JWSAlgorithm> restrictTo(Set<JWSAlgorithm> algs, @Nullable JWSAlgorithm restrict, @Nullable String kid) {
            if (restrict == null) {
                return algs;
            }
            if (!algs.contains(restrict)) {
                throw new IllegalArgumentException("key " + (kid == null ? "" : kid + " ") + "declares alg " + restrict
                        + " which does not fit its type (fits " + algs + ")");
            }
            return Set.of(restrict);
        }
    }

}
