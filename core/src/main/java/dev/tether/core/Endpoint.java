package dev.tether.core;

import java.net.URI;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Where to connect: an absolute URI such as {@code tcp://broker:1883}, {@code ws://host/path}.
 *
 * <p>Immutable. Protocols read the scheme, host, port, path and query they understand.
 *
 * @param uri the absolute URI of the endpoint
 */
public record Endpoint(URI uri) {

    /**
     * Endpoints parsed lately by {@link #of(String)}, one slot per string hash: clients configured from the same
     * string share one immutable endpoint instead of keeping a {@code URI} and its strings each (about 300 bytes
     * per client). Bounded: a slot holds the last endpoint parsed for its hash.
     */
    private static final AtomicReferenceArray<Endpoint> PARSED = new AtomicReferenceArray<>(16);

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
        int slot = uri.hashCode() & (PARSED.length() - 1);
        Endpoint parsed = PARSED.get(slot);
        // A URI made from a string returns that string from toString(): equal strings, equal endpoints.
        if (parsed != null && parsed.uri.toString().equals(uri)) {
            return parsed;
        }
        try {
            parsed = new Endpoint(URI.create(uri));
            PARSED.set(slot, parsed);
            return parsed;
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
