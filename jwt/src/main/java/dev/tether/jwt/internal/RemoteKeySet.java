package dev.tether.jwt.internal;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.source.JWKSetCacheRefreshEvaluator;
import com.nimbusds.jose.jwk.source.JWKSetParseException;
import com.nimbusds.jose.jwk.source.JWKSetSource;
import com.nimbusds.jose.jwk.source.JWKSetUnavailableException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.tether.jwt.KeySetSettings;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.net.URI;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A remote JWK set behind Nimbus's {@link JWKSourceBuilder} chain (cache with refresh ahead, rate
 * limit, outage tolerance, one retry), fetched from a JWK Set URI or from the {@code jwks_uri} of an
 * issuer's discovery document. This class adds the fetching (JDK HTTP client with the configured
 * trust), the discovery with its issuer check, and messages that say which URI and which field.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class RemoteKeySet {

    /** Background refreshes ahead of expiry run here: daemon threads, so no verifier keeps a JVM alive. */
    private static final ExecutorService REFRESH_EXECUTOR = Executors.newCachedThreadPool(new DaemonThreads());

    private final @Nullable URI configuredJwksUri;
    private final @Nullable String issuer;
    private final KeySetSettings settings;
    private final HttpDocumentFetcher fetcher;
    private final JWKSource<SecurityContext> source;
    private final AtomicInteger fetches = new AtomicInteger();
    private volatile @Nullable URI discoveredJwksUri;
    /** Why the latest fetch failed, or null when it succeeded. */
    private volatile @Nullable String lastFailure;

    private RemoteKeySet(@Nullable URI jwksUri, @Nullable String issuer, KeySetSettings settings) {
        this.configuredJwksUri = jwksUri;
        this.issuer = issuer;
        this.settings = settings;
        this.fetcher = new HttpDocumentFetcher(settings);
        JWKSourceBuilder<SecurityContext> b = JWKSourceBuilder.create(new Fetching())
                .cache(settings.cacheTimeToLive().toMillis(), settings.refreshTimeout().toMillis())
                .refreshAheadCache(settings.refreshAhead().toMillis(), null, REFRESH_EXECUTOR, false, null, false)
                .rateLimited(settings.minRefreshInterval().toMillis())
                .retrying(true);
        if (settings.outageTolerance().isZero()) {
            b.outageTolerant(false);
        } else {
            b.outageTolerant(settings.outageTolerance().toMillis());
        }
        try {
            this.source = b.build();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException("the key set settings do not fit together: " + e.getMessage(), e);
        }
    }

    /**
     * @param jwksUri  the JWK Set URI
     * @param settings cache, limits and trust
     * @return the key set
     */
    public static RemoteKeySet fromJwkSetUri(URI jwksUri, KeySetSettings settings) {
        return new RemoteKeySet(checkUri(jwksUri, "jwkSetUri"), null, settings);
    }

    /**
     * @param issuer   the issuer identifier, an {@code https} (or {@code http}) URI
     * @param settings cache, limits and trust
     * @return the key set, found through the issuer's discovery document on first use
     */
    public static RemoteKeySet fromIssuer(String issuer, KeySetSettings settings) {
        checkUri(URI.create(issuer), "issuerUri");
        return new RemoteKeySet(null, issuer, settings);
    }

    /**
     * Selects the signing keys for a token, refreshing the set once (rate limited) when none fits.
     *
     * @param kid the token's key id, or null
     * @param alg the token's algorithm
     * @return the candidate keys, never empty
     * @throws KeySetException when no key fits or the set cannot be obtained
     */
    public List<JWK> select(@Nullable String kid, JWSAlgorithm alg) throws KeySetException {
        JWKMatcher.Builder m = new JWKMatcher.Builder()
                .keyType(KeyType.forAlgorithm(alg))
                .keyUses(KeyUse.SIGNATURE, null)
                .algorithms(alg, null);
        if (kid != null) {
            m.keyID(kid);
        }
        if (JWSAlgorithm.Family.EC.contains(alg)) {
            m.curves(Curve.forJWSAlgorithm(alg));
        }
        List<JWK> keys;
        try {
            keys = source.get(new JWKSelector(m.build()), null);
        } catch (RateLimitReachedException e) {
            String failure = lastFailure;
            if (failure != null) {
                throw new KeySetException(KeySetException.Kind.UNAVAILABLE, "the keys could not be obtained: " + failure
                        + " (asked again after minRefreshInterval, " + settings.minRefreshInterval().toMillis() + " ms)");
            }
            throw new KeySetException(KeySetException.Kind.UNKNOWN_KEY, noKey(kid, alg) + "; the key set was refreshed "
                    + "less than " + settings.minRefreshInterval().toSeconds() + " s ago (minRefreshInterval), so it is not fetched again yet");
        } catch (KeySourceException e) {
            throw new KeySetException(KeySetException.Kind.UNAVAILABLE, "the keys could not be obtained: " + explain(e));
        }
        if (keys.isEmpty()) {
            throw new KeySetException(KeySetException.Kind.UNKNOWN_KEY, noKey(kid, alg) + ", even after a refresh");
        }
        return keys;
    }

    /** @return how many times the key set (or discovery document) was fetched, for tests and metrics */
    public int fetches() {
        return fetches.get();
    }

    private String noKey(@Nullable String kid, JWSAlgorithm alg) {
        return (kid == null ? "the token names no key id and " : "the token names key id '" + printable(kid) + "' but ")
                + "the key set " + where() + " has no " + alg + " signing key" + (kid == null ? "" : " with it");
    }

    private String where() {
        URI uri = configuredJwksUri != null ? configuredJwksUri : discoveredJwksUri;
        return uri != null ? "at " + uri : "of issuer " + issuer;
    }

    private static String explain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Throwable t = e;
        String last = "";
        for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank() && !last.contains(m)) {
                sb.append(sb.length() == 0 ? "" : ": ").append(m);
                last = m;
            }
        }
        return sb.length() == 0 ? e.getClass().getSimpleName() : sb.toString();
    }

    @Override
    public String toString() {
        return configuredJwksUri != null ? "JWK set " + configuredJwksUri : "JWK set of issuer " + issuer;
    }

    private static URI checkUri(URI uri, String name) {
        Objects.requireNonNull(uri, name);
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http")) || uri.getHost() == null) {
            throw new IllegalArgumentException(name + " must be an absolute http(s) URI with a host, but was '" + uri + "'");
        }
        if (uri.getUserInfo() != null || uri.getFragment() != null) {
            throw new IllegalArgumentException(name + " must not carry user info or a fragment, but was '" + uri + "'");
        }
        return uri;
    }

    private URI jwksUri() throws IOException {
        if (configuredJwksUri != null) {
            return configuredJwksUri;
        }
        URI known = discoveredJwksUri;
        if (known != null) {
            return known;
        }
        URI found = discover(Objects.requireNonNull(issuer));
        discoveredJwksUri = found;
        return found;
    }

    /** Reads the issuer's OpenID Connect or RFC 8414 metadata and returns its {@code jwks_uri}. */
    private URI discover(String iss) throws IOException {
        List<URI> candidates = discoveryUris(iss);
        List<String> failures = new ArrayList<>();
        for (URI uri : candidates) {
            String body;
            try {
                fetches.incrementAndGet();
                body = fetcher.fetch(uri, "the discovery document");
            } catch (IOException e) {
                failures.add(e.getMessage());
                continue;
            }
            Map<String, Object> doc;
            try {
                doc = JSONObjectUtils.parse(body);
            } catch (ParseException e) {
                throw new IOException("the discovery document at " + uri + " is not a JSON object");
            }
            Object docIssuer = doc.get("issuer");
            if (!(docIssuer instanceof String s)) {
                throw new IOException("the discovery document at " + uri + " has no \"issuer\" string");
            }
            if (!s.equals(iss)) {
                throw new IOException("the discovery document at " + uri + " names issuer '" + printable(s)
                        + "', not the configured '" + iss + "'; a provider must name itself exactly as configured");
            }
            Object jwks = doc.get("jwks_uri");
            if (!(jwks instanceof String j) || j.isBlank()) {
                throw new IOException("the discovery document at " + uri + " has no \"jwks_uri\" string");
            }
            try {
                return checkUri(URI.create(j), "jwks_uri");
            } catch (IllegalArgumentException e) {
                throw new IOException("the discovery document at " + uri + " has an unusable \"jwks_uri\": " + e.getMessage(), e);
            }
        }
        throw new IOException("no discovery document found for issuer " + iss + " (tried " + candidates + "): "
                + String.join("; ", failures));
    }

    /** OpenID Connect Discovery first, then RFC 8414 (well-known part inserted before the issuer's path). */
    static List<URI> discoveryUris(String iss) {
        String trimmed = iss.endsWith("/") ? iss.substring(0, iss.length() - 1) : iss;
        URI u = URI.create(iss);
        String path = u.getRawPath() == null || u.getRawPath().equals("/") ? "" : u.getRawPath();
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String origin = u.getScheme() + "://" + u.getRawAuthority();
        List<URI> list = new ArrayList<>();
        list.add(URI.create(trimmed + "/.well-known/openid-configuration"));
        list.add(URI.create(origin + "/.well-known/oauth-authorization-server" + path));
        return list;
    }

    /** Parses a key set, saying which key and which field is wrong. */
    static JWKSet parse(String body, URI uri) throws ParseException {
        Map<String, Object> json;
        try {
            json = JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new ParseException("the JWK set at " + uri + " is not a JSON object", 0);
        }
        Object keys = json.get("keys");
        if (keys == null) {
            throw new ParseException("the JWK set at " + uri + " has no \"keys\" member", 0);
        }
        if (!(keys instanceof List<?> list)) {
            throw new ParseException("the JWK set at " + uri + " has a \"keys\" member that is not an array", 0);
        }
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> key)) {
                throw new ParseException("the JWK set at " + uri + " has a key #" + i + " that is not a JSON object", 0);
            }
            String label = "key #" + i + (key.get("kid") instanceof String k ? " (kid '" + printable(k) + "')" : "");
            Object kty = key.get("kty");
            if (!(kty instanceof String type)) {
                throw new ParseException("the JWK set at " + uri + " has " + label + " without a \"kty\" string", 0);
            }
            List<String> required = switch (type) {
                case "RSA" -> List.of("n", "e");
                case "EC" -> List.of("crv", "x", "y");
                case "oct" -> List.of("k");
                case "OKP" -> List.of("crv", "x");
                default -> List.of();
            };
            for (String field : required) {
                if (!(key.get(field) instanceof String v) || v.isEmpty()) {
                    throw new ParseException("the JWK set at " + uri + " has " + label + " of type " + type
                            + " without a \"" + field + "\" string", 0);
                }
            }
        }
        try {
            return JWKSet.parse(json);
        } catch (ParseException e) {
            throw new ParseException("the JWK set at " + uri + " is malformed: " + e.getMessage(), 0);
        }
    }

    private static String printable(String untrusted) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(untrusted.length(), 64); i++) {
            char c = untrusted.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }

    /** The bottom of the chain: one fetch and parse per call. */
    private final class Fetching implements JWKSetSource<SecurityContext> {

        @Override
        public JWKSet getJWKSet(JWKSetCacheRefreshEvaluator refreshEvaluator, long currentTime, @Nullable SecurityContext context)
                throws KeySourceException {
            URI uri;
            String body;
            try {
                uri = jwksUri();
                fetches.incrementAndGet();
                body = fetcher.fetch(uri, "the JWK set");
            } catch (IOException e) {
                String why = Objects.requireNonNullElse(e.getMessage(), e.toString());
                lastFailure = why;
                throw new JWKSetUnavailableException(why, e);
            }
            try {
                JWKSet set = parse(body, uri);
                lastFailure = null;
                return set;
            } catch (ParseException e) {
                String why = Objects.requireNonNullElse(e.getMessage(), "malformed JWK set");
                lastFailure = why;
                throw new JWKSetParseException(why, e);
            }
        }

        @Override
        public void close() {
            // the JDK client holds nothing that needs closing before it is collected
        }
    }

    /** Daemon threads named after their purpose. */
    private static final class DaemonThreads implements java.util.concurrent.ThreadFactory {
        private final AtomicInteger n = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "tether-jwks-refresh-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }
    }
}
