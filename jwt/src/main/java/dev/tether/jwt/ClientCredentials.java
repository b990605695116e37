package dev.tether.jwt;

import org.jspecify.annotations.Nullable;
import reactor.netty.http.client.HttpClient;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where and how to obtain tokens with the OAuth2 client-credentials grant (RFC 6749 section 4.4):
 * a {@code POST} of {@code grant_type=client_credentials} to the token endpoint, answered with JSON
 * holding {@code access_token}, which must be a signed JWT.
 *
 * <p>Refusals by the endpoint are sorted: 400/401/403 (bad client credentials, unknown scope) are
 * permanent and fail the connection with a clear message; 408, 429, 5xx, timeouts, network errors
 * and unusable answers are retried by the {@link JwtCredentialsProvider}.
 *
 * <p>Immutable. Its {@code toString()} shows the endpoint and client id, never the client secret.
 */
public final class ClientCredentials {

    /** Default bound on one token request: 5 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** Default limit on the size of the endpoint's answer: 64 KiB. */
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

    /** How the client authenticates to the token endpoint. */
    public enum Authentication {
        /** HTTP Basic with client id and secret ({@code client_secret_basic}), the default. */
        CLIENT_SECRET_BASIC,
        /** Client id and secret as form parameters ({@code client_secret_post}). */
        CLIENT_SECRET_POST
    }

    private final URI tokenUri;
    private final String clientId;
    private final String clientSecret;
    private final List<String> scopes;
    private final Map<String, String> parameters;
    private final Authentication authentication;
    private final Duration timeout;
    private final int maxResponseBytes;
    private final @Nullable HttpClient httpClient;

    private ClientCredentials(Builder b) {
        this.tokenUri = Objects.requireNonNull(b.tokenUri);
        this.clientId = Objects.requireNonNull(b.clientId);
        this.clientSecret = Objects.requireNonNull(b.clientSecret);
        this.scopes = List.copyOf(b.scopes);
        this.parameters = Map.copyOf(b.parameters);
        this.authentication = b.authentication;
        this.timeout = b.timeout;
        this.maxResponseBytes = b.maxResponseBytes;
        this.httpClient = b.httpClient;
    }

    /** @return a builder; token endpoint, client id and client secret are required */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the token endpoint */
    public URI tokenUri() {
        return tokenUri;
    }

    /** @return the client id */
    public String clientId() {
        return clientId;
    }

    /** @return the client secret. Do not log it. */
    public String clientSecret() {
        return clientSecret;
    }

    /** @return the requested scopes, possibly none */
    public List<String> scopes() {
        return scopes;
    }

    /** @return extra form parameters such as {@code audience} */
    public Map<String, String> parameters() {
        return parameters;
    }

    /** @return how the client authenticates */
    public Authentication authentication() {
        return authentication;
    }

    /** @return the bound on one token request */
    public Duration timeout() {
        return timeout;
    }

    /** @return the largest answer accepted, in bytes */
    public int maxResponseBytes() {
        return maxResponseBytes;
    }

    /** @return the HTTP client to use, if one was given (otherwise a default {@link HttpClient#create()}) */
    public Optional<HttpClient> httpClient() {
        return Optional.ofNullable(httpClient);
    }

    /** @return a builder prefilled with this configuration, to derive a variant */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.tokenUri = tokenUri;
        b.clientId = clientId;
        b.clientSecret = clientSecret;
        b.scopes.addAll(scopes);
        b.parameters.putAll(parameters);
        b.authentication = authentication;
        b.timeout = timeout;
        b.maxResponseBytes = maxResponseBytes;
        b.httpClient = httpClient;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientCredentials c && tokenUri.equals(c.tokenUri) && clientId.equals(c.clientId)
                && clientSecret.equals(c.clientSecret) && scopes.equals(c.scopes) && parameters.equals(c.parameters)
                && authentication == c.authentication && timeout.equals(c.timeout) && maxResponseBytes == c.maxResponseBytes
                && Objects.equals(httpClient, c.httpClient);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tokenUri, clientId, scopes, parameters, authentication, timeout, maxResponseBytes);
    }

    /** @return the endpoint, client id and settings; never the client secret */
    @Override
    public String toString() {
        return "ClientCredentials{tokenUri=" + tokenUri + ", clientId=" + clientId + ", clientSecret=****, scopes=" + scopes
                + ", parameters=" + parameters.keySet() + ", authentication=" + authentication + ", timeout=" + timeout + "}";
    }

    /** Builds {@link ClientCredentials}. Every setter validates at once. */
    public static final class Builder {

        private static final Set<String> RESERVED = Set.of("grant_type", "scope", "client_id", "client_secret");

        private @Nullable URI tokenUri;
        private @Nullable String clientId;
        private @Nullable String clientSecret;
        private final List<String> scopes = new ArrayList<>();
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private Authentication authentication = Authentication.CLIENT_SECRET_BASIC;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
        private @Nullable HttpClient httpClient;

        private Builder() {
        }

        /**
         * @param tokenUri the token endpoint, {@code http} or {@code https}
         * @return this builder
         * @throws IllegalArgumentException if not an absolute http(s) URI with a host
         */
        public Builder tokenUri(String tokenUri) {
            Objects.requireNonNull(tokenUri, "tokenUri");
            try {
                return tokenUri(URI.create(tokenUri));
            } catch (IllegalArgumentException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("tokenUri")) {
                    throw e;
                }
                throw new IllegalArgumentException("tokenUri must be a valid URI, but was '" + tokenUri + "'", e);
            }
        }

        /**
         * @param tokenUri the token endpoint, {@code http} or {@code https}
         * @return this builder
         * @throws IllegalArgumentException if not an absolute http(s) URI with a host, or with user info
         */
        public Builder tokenUri(URI tokenUri) {
            Objects.requireNonNull(tokenUri, "tokenUri");
            String scheme = tokenUri.getScheme();
            if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    || tokenUri.getHost() == null) {
                throw new IllegalArgumentException("tokenUri must be an absolute http(s) URI with a host, but was '" + tokenUri + "'");
            }
            if (tokenUri.getUserInfo() != null) {
                throw new IllegalArgumentException("tokenUri must not carry user info; give clientId(..) and clientSecret(..)");
            }
            this.tokenUri = tokenUri;
            return this;
        }

        /**
         * @param clientId the OAuth2 client id
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder clientId(String clientId) {
            Objects.requireNonNull(clientId, "clientId");
            if (clientId.isBlank()) {
                throw new IllegalArgumentException("clientId must not be blank");
            }
            this.clientId = clientId;
            return this;
        }

        /**
         * @param clientSecret the OAuth2 client secret (never printed)
         * @return this builder
         * @throws IllegalArgumentException if empty
         */
        public Builder clientSecret(String clientSecret) {
            Objects.requireNonNull(clientSecret, "clientSecret");
            if (clientSecret.isEmpty()) {
                throw new IllegalArgumentException("clientSecret must not be empty");
            }
            this.clientSecret = clientSecret;
            return this;
        }

        /**
         * @param scopes scopes to request, replacing earlier ones; default none
         * @return this builder
         * @throws IllegalArgumentException if one is blank or contains a space
         */
        public Builder scope(String... scopes) {
            Objects.requireNonNull(scopes, "scope");
            List<String> list = new ArrayList<>();
            for (String s : scopes) {
                if (s == null || s.isBlank() || s.contains(" ")) {
                    throw new IllegalArgumentException("scope must be a non-blank word without spaces, but was '" + s + "'");
                }
                list.add(s);
            }
            this.scopes.clear();
            this.scopes.addAll(list);
            return this;
        }

        /**
         * Adds an extra form parameter, for example {@code audience} or {@code resource}.
         *
         * @param name  the parameter name; not one the grant sets itself
         * @param value the value (shown by name only in {@code toString()})
         * @return this builder
         * @throws IllegalArgumentException for a blank or reserved name
         */
        public Builder parameter(String name, String value) {
            Objects.requireNonNull(name, "parameter name");
            Objects.requireNonNull(value, "parameter value");
            if (name.isBlank() || RESERVED.contains(name)) {
                throw new IllegalArgumentException("parameter name must be non-blank and not one of " + RESERVED + ", but was '" + name + "'");
            }
            parameters.put(name, value);
            return this;
        }

        /**
         * @param authentication how the client authenticates; default {@link Authentication#CLIENT_SECRET_BASIC}
         * @return this builder
         */
        public Builder authentication(Authentication authentication) {
            this.authentication = Objects.requireNonNull(authentication, "authentication");
            return this;
        }

        /**
         * @param timeout bound on one request (connect, send, answer); default {@link #DEFAULT_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder timeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, but was " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * @param max the largest answer accepted, in bytes; default {@link #DEFAULT_MAX_RESPONSE_BYTES}
         * @return this builder
         * @throws IllegalArgumentException if below 256
         */
        public Builder maxResponseBytes(int max) {
            if (max < 256) {
                throw new IllegalArgumentException("maxResponseBytes must be at least 256, but was " + max);
            }
            this.maxResponseBytes = max;
            return this;
        }

        /**
         * @param httpClient the Reactor Netty client to use (TLS, proxy, connection pool); default
         *                   {@link HttpClient#create()}
         * @return this builder
         */
        public Builder httpClient(HttpClient httpClient) {
            this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
            return this;
        }

        /**
         * @return the configuration
         * @throws IllegalArgumentException if the token endpoint, client id or client secret is missing
         */
        public ClientCredentials build() {
            if (tokenUri == null) {
                throw new IllegalArgumentException("tokenUri must be given");
            }
            if (clientId == null) {
                throw new IllegalArgumentException("clientId must be given");
            }
            if (clientSecret == null) {
                throw new IllegalArgumentException("clientSecret must be given");
            }
            return new ClientCredentials(this);
        }
    }
}
