package dev.tether.websocket;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * An {@link Authenticator} for bearer tokens: takes the token from {@code Authorization: Bearer <token>}
 * (or, when configured, from a query parameter), checks it with any {@link TokenVerifier} and maps
 * the result to a principal, attributes and an expiry.
 *
 * <pre>{@code
 * BearerAuthenticator<JWTClaimsSet> auth = BearerAuthenticator.builder(jwtVerifier::verify)
 *         .principal(JWTClaimsSet::getSubject)
 *         .expiresAt(c -> c.getExpirationTime() == null ? null : c.getExpirationTime().toInstant())
 *         .require(c -> c.getAudience().contains("bots"), "not a bot token")
 *         .build();
 * }</pre>
 *
 * <p>No token: 401 {@code missing bearer token} with {@code WWW-Authenticate: Bearer realm="..."}.
 * Rejected by the verifier: 401 {@code invalid bearer token: <the verifier's message>}, with
 * {@code error="invalid_token"}; the token itself is masked if the message repeats it. A failed
 * {@link Builder#require(Predicate, String)}: 403 with its reason. Blocking verifiers (network
 * key fetches) should run elsewhere: wrap them in your own {@link Authenticator}.
 *
 * @param <T> what a valid token yields
 */
public final class BearerAuthenticator<T> implements Authenticator {

    /** Default realm in the {@code WWW-Authenticate} challenge: {@code tether}. */
    public static final String DEFAULT_REALM = "tether";

    private final TokenVerifier<T> verifier;
    private final Function<T, @Nullable String> principal;
    private final Function<T, @Nullable Instant> expiresAt;
    private final Function<T, Map<String, ?>> attributes;
    private final List<Requirement<T>> requirements;
    private final @Nullable String queryParameter;
    private final String realm;

    private final Builder<T> settings;

    private BearerAuthenticator(Builder<T> b) {
        this.settings = new Builder<>(b);
        this.verifier = b.verifier;
        this.principal = b.principal;
        this.expiresAt = b.expiresAt;
        this.attributes = b.attributes;
        this.requirements = List.copyOf(b.requirements);
        this.queryParameter = b.queryParameter;
        this.realm = b.realm;
    }

    /**
     * @param verifier checks a token, e.g. {@code jwtVerifier::verify}
     * @param <T>      what a valid token yields
     * @return a builder
     */
    public static <T> Builder<T> builder(TokenVerifier<T> verifier) {
        return new Builder<>(verifier);
    }

    /** @return a builder prefilled with this authenticator's settings */
    public Builder<T> toBuilder() {
        return new Builder<>(settings);
    }

    @Override
    public Mono<AuthDecision> authenticate(UpgradeRequest request) {
        return Mono.fromCallable(() -> decide(request));
    }

    private AuthDecision decide(UpgradeRequest request) {
        Optional<String> token = token(request);
        if (token.isEmpty()) {
            return AuthDecision.unauthorized("missing bearer token").withChallenge("Bearer realm=\"" + realm + "\"");
        }
        String t = token.get();
        T proof;
        try {
            proof = verifier.verify(t);
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace(t, "****");
            return AuthDecision.unauthorized("invalid bearer token: " + why)
                    .withChallenge("Bearer realm=\"" + realm + "\", error=\"invalid_token\"");
        }
        if (proof == null) {
            return AuthDecision.unauthorized("invalid bearer token")
                    .withChallenge("Bearer realm=\"" + realm + "\", error=\"invalid_token\"");
        }
        for (Requirement<T> r : requirements) {
            if (!r.check.test(proof)) {
                return AuthDecision.forbidden(r.reason);
            }
        }
        return AuthDecision.accept(principal.apply(proof), attributes.apply(proof), expiresAt.apply(proof));
    }

    private Optional<String> token(UpgradeRequest request) {
        Optional<String> header = request.header("Authorization");
        if (header.isPresent()) {
            String h = header.get().trim();
            if (h.regionMatches(true, 0, "Bearer ", 0, 7) && h.length() > 7) {
                return Optional.of(h.substring(7).trim());
            }
        }
        if (queryParameter != null) {
            return request.queryParameter(queryParameter).filter(v -> !v.isBlank());
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "BearerAuthenticator{realm=" + realm + (queryParameter == null ? "" : ", query=" + queryParameter)
                + ", requirements=" + requirements.size() + "}";
    }

    private record Requirement<T>(Predicate<T> check, String reason) {
    }

    /**
     * Builds a {@link BearerAuthenticator}. Setters validate at once.
     *
     * @param <T> what a valid token yields
     */
    public static final class Builder<T> {
        private final TokenVerifier<T> verifier;
        private Function<T, @Nullable String> principal = t -> null;
        private Function<T, @Nullable Instant> expiresAt = t -> null;
        private Function<T, Map<String, ?>> attributes = t -> Map.of();
        private final List<Requirement<T>> requirements = new ArrayList<>();
        private @Nullable String queryParameter;
        private String realm = DEFAULT_REALM;

        private Builder(Builder<T> b) {
            this(b.verifier);
            principal = b.principal;
            expiresAt = b.expiresAt;
            attributes = b.attributes;
            requirements.addAll(b.requirements);
            queryParameter = b.queryParameter;
            realm = b.realm;
        }

        private Builder(TokenVerifier<T> verifier) {
            this.verifier = Objects.requireNonNull(verifier, "verifier");
        }

        /**
         * @param principal the session's principal from a valid token (e.g. the subject); default none
         * @return this builder
         */
        public Builder<T> principal(Function<T, @Nullable String> principal) {
            this.principal = Objects.requireNonNull(principal, "principal");
            return this;
        }

        /**
         * @param expiresAt when a valid token expires (the session is closed then), or null for never; default never
         * @return this builder
         */
        public Builder<T> expiresAt(Function<T, @Nullable Instant> expiresAt) {
            this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
            return this;
        }

        /**
         * @param attributes session attributes from a valid token; default none
         * @return this builder
         */
        public Builder<T> attributes(Function<T, Map<String, ?>> attributes) {
            this.attributes = Objects.requireNonNull(attributes, "attributes");
            return this;
        }

        /**
         * Adds a check on a valid token; when it fails the upgrade is refused with 403.
         *
         * @param check  the condition
         * @param reason the 403 reason; must not contain secrets
         * @return this builder
         */
        public Builder<T> require(Predicate<T> check, String reason) {
            Objects.requireNonNull(check, "check");
            Objects.requireNonNull(reason, "reason");
            requirements.add(new Requirement<>(check, reason));
            return this;
        }

        /**
         * Also accepts the token from a query parameter when no {@code Authorization} header is present
         * (browsers cannot set headers on WebSocket upgrades). Off by default: query strings end up in logs.
         *
         * @param name the parameter name, e.g. {@code access_token}
         * @return this builder
         */
        public Builder<T> queryParameter(String name) {
            Objects.requireNonNull(name, "queryParameter");
            if (name.isBlank()) {
                throw new IllegalArgumentException("queryParameter must not be blank, but was '" + name + "'");
            }
            this.queryParameter = name;
            return this;
        }

        /**
         * @param realm the realm of the {@code WWW-Authenticate} challenge; default {@link #DEFAULT_REALM}
         * @return this builder
         */
        public Builder<T> realm(String realm) {
            Objects.requireNonNull(realm, "realm");
            if (realm.isBlank() || realm.contains("\"")) {
                throw new IllegalArgumentException("realm must be non-blank without quotes, but was '" + realm + "'");
            }
            this.realm = realm;
            return this;
        }

        /** @return the authenticator */
        public BearerAuthenticator<T> build() {
            return new BearerAuthenticator<>(this);
        }
    }
}
