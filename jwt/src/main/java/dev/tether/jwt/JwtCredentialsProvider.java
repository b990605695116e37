package dev.tether.jwt;

import static dev.tether.core.internal.Require.positive;
import static dev.tether.core.internal.Require.nonNegative;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import dev.tether.jwt.internal.TokenCache;
import dev.tether.jwt.internal.TokenEndpointSource;
import dev.tether.jwt.internal.TokenSource;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link CredentialsProvider} that supplies a valid JWT before every connection attempt.
 *
 * <p>Tokens come from one source: signed here by a {@link JwtSigner}, obtained from an OAuth2
 * token endpoint ({@link ClientCredentials}), or from any {@code Mono<String>}. The provider
 * <ul>
 *   <li>reuses a token until its {@code exp} minus the {@linkplain Builder#refreshSkew(Duration)
 *       refresh skew}, then fetches a new one on the next request;</li>
 *   <li>fetches a new token, always, when the request says the peer refused the last one
 *       ({@link CredentialsRequest#refresh()}); a source that hands back the refused token fails;</li>
 *   <li>lets concurrent requests share one fetch (single flight);</li>
 *   <li>retries a failed fetch with jittered exponential backoff, bounded by a per-try timeout,
 *       then fails the attempt with a {@link TokenUnavailableException} saying why (a permanent
 *       refusal by the token endpoint is fatal for the connection; everything else is retried by
 *       the connection's own backoff);</li>
 *   <li>checks every token before handing it out: malformed, {@code alg: none}, already expired or
 *       not yet valid tokens are refused ({@link InvalidJwtException.Reason}); with a
 *       {@link Builder#verifier(JwtVerifier) verifier} also signature, issuer and audience;</li>
 *   <li>maps the token into {@link Credentials} with a {@link TokenMapping} (MQTT password,
 *       bearer header, query parameter).</li>
 * </ul>
 *
 * <p>A fetch keeps going when the attempt that asked for it is cancelled (for example by the
 * connection's attempt timeout); its token is cached for the next request. Keep
 * {@code fetchTimeout * (fetchRetries + 1)} plus the backoff below the connection's attempt
 * timeout so a failing issuer is reported by the provider rather than by the attempt timeout.
 *
 * <p>A token without {@code exp} is handed out once and not cached; renewal is lazy: the request
 * after {@code exp - skew} fetches the new token (a connected session does not wake the provider).
 *
 * <p>Time is read from the {@linkplain Builder#scheduler(Scheduler) scheduler}'s clock, so tests in
 * virtual time control expiry and backoff. A token never appears in a log line, an exception or a
 * {@code toString()}.
 *
 * <pre>{@code
 * JwtCredentialsProvider tokens = JwtCredentialsProvider.builder()
 *         .tokenEndpoint(ClientCredentials.builder()
 *                 .tokenUri("https://auth.example/oauth2/token")
 *                 .clientId("device-42").clientSecret(secret)
 *                 .build())
 *         .mapping(TokenMapping.password("device-42"))
 *         .build();
 * }</pre>
 *
 * <p>Thread-safe; share one instance between the connections that may use the same token.
 */
public final class JwtCredentialsProvider implements CredentialsProvider {

    /** Default margin before {@code exp} at which a token is renewed: 30 s. */
    public static final Duration DEFAULT_REFRESH_SKEW = Duration.ofSeconds(30);
    /** Default allowance for an issuer whose clock runs ahead ({@code nbf}, {@code iat} in the future): 60 s. */
    public static final Duration DEFAULT_CLOCK_TOLERANCE = Duration.ofSeconds(60);
    /**
     * Default bound on one fetch try: 5 s. With the default retries and backoff a fetch gives up
     * within about 22 s, inside core's default attempt timeout of 30 s.
     */
    public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(5);
    /** Default number of retries after a failed fetch try: 3 (so 4 tries in all). */
    public static final int DEFAULT_FETCH_RETRIES = 3;
    /** Default first retry delay after a failed fetch try: 200 ms (doubling, with 50 % jitter). */
    public static final Duration DEFAULT_FETCH_BACKOFF = Duration.ofMillis(200);
    /** Default largest retry delay: 5 s. */
    public static final Duration DEFAULT_FETCH_MAX_BACKOFF = Duration.ofSeconds(5);

    private final String name;
    private final TokenCache cache;
    private final TokenMapping mapping;
    private final Duration refreshSkew;
    private final @Nullable JwtVerifier verifier;
    private final Scheduler scheduler;

    private final Builder settings;

    private JwtCredentialsProvider(Builder b, TokenSource source) {
        this.settings = new Builder(b);
        this.name = b.name;
        this.mapping = b.mapping;
        this.refreshSkew = b.refreshSkew;
        this.verifier = b.verifier;
        Duration tolerance = b.clockTolerance;
        JwtVerifier v = b.verifier;
        this.cache = new TokenCache(b.name, source, (token, now) -> check(v, tolerance, token, now), b.refreshSkew,
                b.fetchTimeout, b.fetchRetries, b.fetchBackoff, b.fetchMaxBackoff,
                b.scheduler != null ? b.scheduler : Schedulers.parallel());
        this.scheduler = b.scheduler != null ? b.scheduler : Schedulers.parallel();
    }

    /** @return a builder; give exactly one token source */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this provider's settings */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /**
     * Supplies the credentials for one attempt: the cached token while it is fresh, otherwise (or
     * when {@code request.refresh()} is set) a new one.
     *
     * @param request why credentials are needed
     * @return the mapped credentials, or a {@link TokenUnavailableException}
     */
    @Override
    public Mono<Credentials> credentials(CredentialsRequest request) {
        Objects.requireNonNull(request, "request");
        return cache.token(request.refresh()).map(mapping::map);
    }

    /**
     * The current token, for the application's own use (for example an HTTP call beside the
     * connection). Same caching and checks as {@link #credentials(CredentialsRequest)}.
     *
     * @return a token that can be presented now
     */
    public Mono<String> token() {
        return cache.token(false);
    }

    /**
     * A new token, replacing the cached one (for example after the application's own call was
     * refused with 401).
     *
     * @return a token fetched for this request (or for a concurrent one)
     */
    public Mono<String> refreshedToken() {
        return cache.token(true);
    }

    /**
     * Like {@link #credentials(CredentialsRequest)}, with the expiry of the token handed out.
     *
     * @param request why credentials are needed
     * @return the credentials and the token's {@code exp}, if it has one
     */
    Mono<Issued> issue(CredentialsRequest request) {
        Objects.requireNonNull(request, "request");
        return cache.token(request.refresh()).map(t -> new Issued(mapping.map(t), expiryOf(t)));
    }

    /** @return the scheduler whose clock and timers this provider uses */
    Scheduler scheduler() {
        return scheduler;
    }

    /** Credentials handed out, with the expiry of their token. Its {@code toString()} holds no secret. */
    record Issued(Credentials credentials, Optional<Instant> expiresAt) {
    }

    private static Optional<Instant> expiryOf(String token) {
        try {
            return Optional.ofNullable(SignedJWT.parse(token).getJWTClaimsSet().getExpirationTime()).map(java.util.Date::toInstant);
        } catch (ParseException e) {
            return Optional.empty(); // checked before it was cached: cannot happen
        }
    }

    /** @return how many token fetches were started so far (a fetch may make several tries) */
    public long fetchCount() {
        return cache.fetches();
    }

    @Override
    public String toString() {
        return "JwtCredentialsProvider{name=" + name + ", source=" + cache.sourceDescription() + ", refreshSkew=" + refreshSkew
                + ", verifier=" + (verifier == null ? "none" : "set") + "}";
    }

    private static Optional<Instant> check(@Nullable JwtVerifier verifier, Duration tolerance, String token, Instant now)
            throws InvalidJwtException {
        JWTClaimsSet claims;
        if (verifier != null) {
            claims = verifier.verify(token, now);
        } else {
            SignedJWT jwt = JwtVerifier.parseSigned(token, Integer.MAX_VALUE);
            try {
                claims = jwt.getJWTClaimsSet();
            } catch (ParseException e) {
                throw new InvalidJwtException(InvalidJwtException.Reason.MALFORMED, "the payload is not a JSON claims set");
            }
        }
        // Strict on expiry (an expired token is useless to present), lenient on an issuer clock ahead of ours.
        JwtVerifier.checkTimes(claims, now, Duration.ZERO, tolerance, false);
        return Optional.ofNullable(claims.getExpirationTime()).map(java.util.Date::toInstant);
    }

    /**
     * Builds a {@link JwtCredentialsProvider}. Every setter validates at once.
     */
    public static final class Builder {

        private @Nullable TokenSource source;
        private TokenMapping mapping = TokenMapping.secret();
        private Duration refreshSkew = DEFAULT_REFRESH_SKEW;
        private Duration clockTolerance = DEFAULT_CLOCK_TOLERANCE;
        private Duration fetchTimeout = DEFAULT_FETCH_TIMEOUT;
        private int fetchRetries = DEFAULT_FETCH_RETRIES;
        private Duration fetchBackoff = DEFAULT_FETCH_BACKOFF;
        private Duration fetchMaxBackoff = DEFAULT_FETCH_MAX_BACKOFF;
        private @Nullable JwtVerifier verifier;
        private @Nullable Scheduler scheduler;
        private String name = "jwt";

        private Builder(Builder b) {
            source = b.source;
            mapping = b.mapping;
            refreshSkew = b.refreshSkew;
            clockTolerance = b.clockTolerance;
            fetchTimeout = b.fetchTimeout;
            fetchRetries = b.fetchRetries;
            fetchBackoff = b.fetchBackoff;
            fetchMaxBackoff = b.fetchMaxBackoff;
            verifier = b.verifier;
            scheduler = b.scheduler;
            name = b.name;
        }

        private Builder() {
        }

        /**
         * Self-signed tokens: each fetch signs a new token issued at the scheduler's current time.
         *
         * @param signer the key and claims template
         * @return this builder
         * @throws IllegalStateException if a source was already given
         */
        public Builder selfSigned(JwtSigner signer) {
            Objects.requireNonNull(signer, "signer");
            return source(new TokenSource() {
                @Override
                public Mono<String> fetch(Instant now) {
                    return Mono.fromCallable(() -> signer.sign(now));
                }

                @Override
                public String description() {
                    return "self-signed " + signer.algorithm() + " tokens";
                }
            });
        }

        /**
         * Issued tokens from an OAuth2 token endpoint (client-credentials grant).
         *
         * @param endpoint where and how to ask
         * @return this builder
         * @throws IllegalStateException if a source was already given
         */
        public Builder tokenEndpoint(ClientCredentials endpoint) {
            Objects.requireNonNull(endpoint, "tokenEndpoint");
            return source(new TokenEndpointSource(endpoint));
        }

        /**
         * Issued tokens from any reactive source. {@code tokens} is subscribed once per fetch try, so
         * it must be cold (for example {@code Mono.fromCallable(...)} or {@code Mono.defer(...)}):
         * each subscription must ask anew. The tokens are checked like every other.
         *
         * @param description names the source in messages (no secret)
         * @param tokens      the source
         * @return this builder
         * @throws IllegalStateException if a source was already given
         */
        public Builder issuedBy(String description, Mono<String> tokens) {
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(tokens, "tokens");
            if (description.isBlank()) {
                throw new IllegalArgumentException("description must not be blank");
            }
            return source(new TokenSource() {
                @Override
                public Mono<String> fetch(Instant now) {
                    return tokens;
                }

                @Override
                public String description() {
                    return description;
                }
            });
        }

        private Builder source(TokenSource s) {
            if (this.source != null) {
                throw new IllegalStateException("a token source is already set (" + this.source.description()
                        + "); give exactly one of selfSigned, tokenEndpoint, issuedBy");
            }
            this.source = s;
            return this;
        }

        /**
         * @param mapping where the token goes in the credentials; default {@link TokenMapping#secret()}
         * @return this builder
         */
        public Builder mapping(TokenMapping mapping) {
            this.mapping = Objects.requireNonNull(mapping, "mapping");
            return this;
        }

        /**
         * @param skew how long before {@code exp} a token is renewed; default {@link #DEFAULT_REFRESH_SKEW}.
         *             A token that lives shorter than the skew is used once.
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder refreshSkew(Duration skew) {
            this.refreshSkew = nonNegative("refreshSkew", skew);
            return this;
        }

        /**
         * @param tolerance how far an issuer's clock may run ahead ({@code nbf}/{@code iat} in the
         *                  future); default {@link #DEFAULT_CLOCK_TOLERANCE}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder clockTolerance(Duration tolerance) {
            this.clockTolerance = nonNegative("clockTolerance", tolerance);
            return this;
        }

        /**
         * @param timeout bound on one fetch try; default {@link #DEFAULT_FETCH_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder fetchTimeout(Duration timeout) {
            this.fetchTimeout = positive("fetchTimeout", timeout);
            return this;
        }

        /**
         * @param retries retries after a failed fetch try (0 = no retry); default {@link #DEFAULT_FETCH_RETRIES}
         * @return this builder
         * @throws IllegalArgumentException if negative or above 100
         */
        public Builder fetchRetries(int retries) {
            if (retries < 0 || retries > 100) {
                throw new IllegalArgumentException("fetchRetries must be between 0 and 100, but was " + retries);
            }
            this.fetchRetries = retries;
            return this;
        }

        /**
         * @param first first retry delay, doubled each retry with 50 % jitter; default {@link #DEFAULT_FETCH_BACKOFF}
         * @param max   largest retry delay; default {@link #DEFAULT_FETCH_MAX_BACKOFF}
         * @return this builder
         * @throws IllegalArgumentException if not positive, or {@code max} is below {@code first}
         */
        public Builder fetchBackoff(Duration first, Duration max) {
            positive("fetchBackoff first", first);
            positive("fetchBackoff max", max);
            if (max.compareTo(first) < 0) {
                throw new IllegalArgumentException("fetchBackoff max (" + max + ") must not be below first (" + first + ")");
            }
            this.fetchBackoff = first;
            this.fetchMaxBackoff = max;
            return this;
        }

        /**
         * Verifies issued tokens fully (signature, issuer, audience, times) before handing them out.
         * Without a verifier the provider still refuses malformed, unsigned, expired and not yet valid
         * tokens, but cannot check a signature.
         *
         * @param verifier the verifier; its clock is replaced by the provider's scheduler
         * @return this builder
         */
        public Builder verifier(JwtVerifier verifier) {
            this.verifier = Objects.requireNonNull(verifier, "verifier");
            return this;
        }

        /**
         * @param scheduler clock and retry timers; default {@link Schedulers#parallel()} as of
         *                  {@link #build()} (so {@code StepVerifier.withVirtualTime} replaces it)
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * @param name a name for log lines; default {@code jwt}
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /**
         * @return the provider
         * @throws IllegalStateException if no token source was given
         */
        public JwtCredentialsProvider build() {
            TokenSource s = source;
            if (s == null) {
                throw new IllegalStateException("no token source: give selfSigned(..), tokenEndpoint(..) or issuedBy(..)");
            }
            return new JwtCredentialsProvider(this, s);
        }


    }
}
