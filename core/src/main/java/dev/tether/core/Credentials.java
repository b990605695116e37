package dev.tether.core;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a connector presents to the peer on one attempt: a user name, a secret (password or
 * token) and optional named attributes (for example a header name for the secret).
 *
 * <p>Immutable. {@link #toString()} never shows the secret or attribute values.
 */
public final class Credentials {

    /**
     * Attributes named {@code header.<Name>} are HTTP headers to send with a WebSocket upgrade (for
     * example {@code header.Authorization}); connectors that speak HTTP send them.
     */
    public static final String HEADER_PREFIX = "header.";

    /**
     * Attributes named {@code query.<name>} are query parameters to add to a WebSocket URI (for
     * example {@code query.access_token}); connectors that speak HTTP add them.
     */
    public static final String QUERY_PREFIX = "query.";

    private static final Credentials NONE = new Credentials(null, null, Map.of());

    private final @Nullable String username;
    private final @Nullable String secret;
    private final Map<String, String> attributes;

    private Credentials(@Nullable String username, @Nullable String secret, Map<String, String> attributes) {
        this.username = username;
        this.secret = secret;
        this.attributes = Map.copyOf(attributes);
    }

    /** @return credentials with neither user name nor secret */
    public static Credentials none() {
        return NONE;
    }

    /**
     * @param username the user name (MQTT user name, HTTP basic user)
     * @param secret   the password or token
     * @return credentials with both
     */
    public static Credentials of(@Nullable String username, @Nullable String secret) {
        return new Credentials(username, secret, Map.of());
    }

    /**
     * @param token a bearer token, e.g. a JWT
     * @return credentials with the token as the secret and no user name
     */
    public static Credentials token(String token) {
        return new Credentials(null, Objects.requireNonNull(token, "token"), Map.of());
    }

    /**
     * @param name  attribute name
     * @param value attribute value (treated as secret: never printed)
     * @return a copy with the attribute added
     */
    public Credentials withAttribute(String name, String value) {
        var copy = new java.util.HashMap<>(attributes);
        copy.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
        return new Credentials(username, secret, copy);
    }

    /**
     * @param name  an HTTP header name
     * @param value its value (treated as secret: never printed)
     * @return a copy with the header attribute {@code header.<name>} added
     */
    public Credentials withHeader(String name, String value) {
        return withAttribute(HEADER_PREFIX + name, value);
    }

    /**
     * @param name  a query parameter name
     * @param value its value (treated as secret: never printed)
     * @return a copy with the query attribute {@code query.<name>} added
     */
    public Credentials withQueryParameter(String name, String value) {
        return withAttribute(QUERY_PREFIX + name, value);
    }

    /** @return the {@code header.*} attributes, by header name */
    public Map<String, String> headers() {
        return withPrefix(HEADER_PREFIX);
    }

    /** @return the {@code query.*} attributes, by parameter name */
    public Map<String, String> queryParameters() {
        return withPrefix(QUERY_PREFIX);
    }

    private Map<String, String> withPrefix(String prefix) {
        var out = new java.util.LinkedHashMap<String, String>();
        attributes.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return java.util.Collections.unmodifiableMap(out);
    }

    /** @return the user name, if any */
    public Optional<String> username() {
        return Optional.ofNullable(username);
    }

    /** @return the secret (password or token), if any. Do not log it. */
    public Optional<String> secret() {
        return Optional.ofNullable(secret);
    }

    /** @return the named attributes */
    public Map<String, String> attributes() {
        return attributes;
    }

    /** @return whether there is no user name and no secret */
    public boolean isEmpty() {
        return username == null && secret == null && attributes.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credentials c && Objects.equals(username, c.username)
                && Objects.equals(secret, c.secret) && attributes.equals(c.attributes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(username, secret, attributes);
    }

    /** @return a description that shows the user name and whether a secret is present, never the secret */
    @Override
    public String toString() {
        return "Credentials{username=" + (username == null ? "none" : username)
                + ", secret=" + (secret == null ? "none" : "****")
                + ", attributes=" + attributes.keySet() + "}";
    }
}
