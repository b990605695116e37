package dev.tether.core;

import java.net.URI;
import java.util.Objects;

/**
 * Where to connect: an absolute URI such as {@code tcp://broker:1883}, {@code ws://host/path}.
 *
 * <p>Immutable. Protocols read the scheme, host, port, path and query they understand.
 *
 * @param uri the absolute URI of the endpoint
 */
public record Endpoint(URI uri) {

    /**
     * Validates the URI.
     *
     * @param uri an absolute URI with a scheme and a host
     * @throws IllegalArgumentException if the URI is not absolute or has no host
     */
    public Endpoint {
        Objects.requireNonNull(uri, "uri");
        if (!uri.isAbsolute() || uri.getScheme() == null) {
            throw new IllegalArgumentException("endpoint uri must be absolute with a scheme, e.g. tcp://host:1883, but was '" + uri + "'");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("endpoint uri must name a host, but was '" + uri + "'");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException("endpoint uri must not carry user info (credentials belong in a CredentialsProvider): "
                    + uri.getScheme() + "://" + uri.getHost());
        }
    }

    /**
     * Parses an endpoint.
     *
     * @param uri an absolute URI string, e.g. {@code tcp://127.0.0.1:1883}
     * @return the endpoint
     * @throws IllegalArgumentException if the string is not a valid absolute URI with a host
     */
    public static Endpoint of(String uri) {
        Objects.requireNonNull(uri, "uri");
        try {
            return new Endpoint(URI.create(uri));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("endpoint uri")) {
                throw e;
            }
            throw new IllegalArgumentException("endpoint '" + uri + "' is not a valid URI: " + e.getMessage(), e);
        }
    }

    /**
     * @param uri an absolute URI with a scheme and a host
     * @return the endpoint for a URI
     */
    public static Endpoint of(URI uri) {
        return new Endpoint(uri);
    }

    /** @return the URI scheme in lower case, e.g. {@code tcp}, {@code ws} */
    public String scheme() {
        return uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    }

    /** @return the host name or address */
    public String host() {
        return uri.getHost();
    }

    /**
     * @param defaultPort the port to use when the URI has none
     * @return the port of the URI, or {@code defaultPort}
     */
    public int port(int defaultPort) {
        return uri.getPort() == -1 ? defaultPort : uri.getPort();
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
