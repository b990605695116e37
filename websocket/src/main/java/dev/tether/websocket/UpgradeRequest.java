package dev.tether.websocket;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What an {@link Authenticator} sees of a WebSocket upgrade, before the server answers it: the path,
 * the headers, the query parameters, the remote address and, over TLS with client authentication,
 * the client's certificate chain.
 *
 * <p>Immutable. {@link #toString()} shows the path, the remote address and the header and parameter
 * names, never their values (they may carry tokens).
 */
public final class UpgradeRequest {

    private final String path;
    private final Map<String, List<String>> headers;
    private final Map<String, List<String>> query;
    private final InetSocketAddress remoteAddress;
    private final List<Certificate> peerCertificates;

    private UpgradeRequest(String path, Map<String, List<String>> headers, Map<String, List<String>> query,
                           InetSocketAddress remoteAddress, List<Certificate> peerCertificates) {
        this.path = path;
        this.headers = headers;
        this.query = query;
        this.remoteAddress = remoteAddress;
        this.peerCertificates = peerCertificates;
    }

    /**
     * @param uri              the request URI as sent (path and query, e.g. {@code /ws?access_token=...})
     * @param headers          the request headers; names are matched case-insensitively
     * @param remoteAddress    the client's address
     * @param peerCertificates the client's verified certificate chain over TLS with client authentication, else empty
     * @return the request
     */
    public static UpgradeRequest of(String uri, Map<String, List<String>> headers, InetSocketAddress remoteAddress,
                                    List<Certificate> peerCertificates) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        Objects.requireNonNull(peerCertificates, "peerCertificates");
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        Map<String, List<String>> h = new LinkedHashMap<>();
        headers.forEach((k, v) -> h.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new ArrayList<>()).addAll(v));
        Map<String, List<String>> hh = new LinkedHashMap<>();
        h.forEach((k, v) -> hh.put(k, List.copyOf(v)));
        Map<String, List<String>> q = new LinkedHashMap<>();
        decoder.parameters().forEach((k, v) -> q.put(k, List.copyOf(v)));
        return new UpgradeRequest(decoder.path(), Collections.unmodifiableMap(hh), Collections.unmodifiableMap(q),
                remoteAddress, List.copyOf(peerCertificates));
    }

    /** @return the request path, without the query */
    public String path() {
        return path;
    }

    /**
     * @param name a header name, any case
     * @return the first value of that header, if present
     */
    public Optional<String> header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }

    /** @return every header, by lower-case name */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /**
     * @param name a query parameter name (case-sensitive)
     * @return its first value, if present
     */
    public Optional<String> queryParameter(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }

    /** @return every query parameter, decoded */
    public Map<String, List<String>> queryParameters() {
        return query;
    }

    /** @return the client's address */
    public InetSocketAddress remoteAddress() {
        return remoteAddress;
    }

    /** @return the client's certificate chain (TLS with client authentication), or empty */
    public List<Certificate> peerCertificates() {
        return peerCertificates;
    }

    @Override
    public String toString() {
        return "UpgradeRequest{" + path + " from " + remoteAddress + ", headers=" + headers.keySet()
                + ", query=" + query.keySet() + (peerCertificates.isEmpty() ? "" : ", client certificate") + "}";
    }
}
