package dev.tether.jwt;

import dev.tether.core.Credentials;

import java.util.Objects;

/**
 * Where a token goes in the {@link Credentials} handed to a connector.
 *
 * <p>Connectors read the secret and the named attributes they understand: an MQTT connector the
 * user name and password, a WebSocket connector attributes named {@code header.<Name>} (an HTTP
 * header of the upgrade request) and {@code query.<name>} (a query parameter). Every mapping also
 * keeps the raw token as the {@linkplain Credentials#secret() secret}.
 */
@FunctionalInterface
public interface TokenMapping {

    /** Prefix of attribute names that carry an HTTP header: {@code header.Authorization}. */
    String HEADER_ATTRIBUTE_PREFIX = Credentials.HEADER_PREFIX;
    /** Prefix of attribute names that carry a query parameter: {@code query.access_token}. */
    String QUERY_ATTRIBUTE_PREFIX = Credentials.QUERY_PREFIX;

    /**
     * @param token the token for one attempt
     * @return the credentials carrying it
     */
    Credentials map(String token);

    /** @return the token as the secret, no user name: {@link Credentials#token(String)} (the default) */
    static TokenMapping secret() {
        return Credentials::token;
    }

    /**
     * The MQTT way: the token is the password of the CONNECT packet.
     *
     * @param username the MQTT user name to send with it (brokers often ignore it, some need it)
     * @return the mapping
     */
    static TokenMapping password(String username) {
        Objects.requireNonNull(username, "username");
        return token -> Credentials.of(username, token);
    }

    /** @return the token as {@code Authorization: Bearer <token>} (attribute {@code header.Authorization}) */
    static TokenMapping bearerHeader() {
        return header("Authorization", "Bearer ");
    }

    /**
     * @param name   the HTTP header name
     * @param prefix put before the token, e.g. {@code "Bearer "}; may be empty
     * @return the token in attribute {@code header.<name>}
     * @throws IllegalArgumentException if the name is blank or holds characters not allowed in a header name
     */
    static TokenMapping header(String name, String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        String n = checkName("header name", name);
        return token -> Credentials.token(token).withAttribute(HEADER_ATTRIBUTE_PREFIX + n, prefix + token);
    }

    /**
     * @param name the query parameter name, e.g. {@code access_token}
     * @return the token in attribute {@code query.<name>}
     * @throws IllegalArgumentException if the name is blank or holds characters that need escaping
     */
    static TokenMapping queryParameter(String name) {
        String n = checkName("query parameter name", name);
        return token -> Credentials.token(token).withAttribute(QUERY_ATTRIBUTE_PREFIX + n, token);
    }

    private static String checkName(String field, String name) {
        Objects.requireNonNull(name, field);
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={}&#%".indexOf(c) < 0)) {
            throw new IllegalArgumentException(field + " must be a non-empty token of visible ASCII without separators, but was '"
                    + name + "'");
        }
        return name;
    }
}
