package dev.tether.jwt;

import org.jspecify.annotations.Nullable;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link JwtVerifier} fetches and keeps an identity provider's published key set (JWK Set):
 * cache lifetime, refresh ahead of expiry, the rate limit on refreshes caused by unknown key ids,
 * outage tolerance, and the HTTP client's bounds and TLS trust.
 *
 * <p>The defaults suit a provider that rotates keys the usual way (a new key is published before it
 * signs, the old one stays published for a while):
 * <table>
 *   <caption>Defaults</caption>
 *   <tr><th>setting</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@link Builder#cacheTimeToLive(Duration) cacheTimeToLive}</td><td>5 min</td>
 *       <td>how long a fetched key set is used without asking again</td></tr>
 *   <tr><td>{@link Builder#refreshAhead(Duration) refreshAhead}</td><td>30 s</td>
 *       <td>a verification in the last 30 s of the cache lifetime refreshes in the background, so
 *       callers do not wait on the provider</td></tr>
 *   <tr><td>{@link Builder#refreshTimeout(Duration) refreshTimeout}</td><td>15 s</td>
 *       <td>how long a verification waits for a refresh that another thread has started</td></tr>
 *   <tr><td>{@link Builder#minRefreshInterval(Duration) minRefreshInterval}</td><td>30 s</td>
 *       <td>a token naming an unknown {@code kid} causes at most one refresh per interval; the
 *       others are refused as {@link InvalidJwtException.Reason#UNKNOWN_KEY} without a fetch</td></tr>
 *   <tr><td>{@link Builder#outageTolerance(Duration) outageTolerance}</td><td>30 min</td>
 *       <td>while the provider is unreachable, the last good key set stays in use this long
 *       (counted from its fetch); {@link Duration#ZERO} turns it off</td></tr>
 *   <tr><td>{@link Builder#httpTimeout(Duration) httpTimeout}</td><td>5 s</td>
 *       <td>bound on connecting and on the answer of one request</td></tr>
 *   <tr><td>{@link Builder#maxResponseBytes(int) maxResponseBytes}</td><td>64 KiB</td>
 *       <td>a larger answer is refused</td></tr>
 *   <tr><td>{@link Builder#trustStore(KeyStore) trustStore}</td><td>the JDK's</td>
 *       <td>certificates trusted for {@code https}; the host name is always verified</td></tr>
 * </table>
 *
 * <p>Immutable; {@code toString()} shows no key material.
 */
public final class KeySetSettings {

    /** Default lifetime of a cached key set: 5 min. */
    public static final Duration DEFAULT_CACHE_TIME_TO_LIVE = Duration.ofMinutes(5);
    /** Default time before the cache expires from which a verification refreshes in the background: 30 s. */
    public static final Duration DEFAULT_REFRESH_AHEAD = Duration.ofSeconds(30);
    /** Default wait for a refresh in progress: 15 s. */
    public static final Duration DEFAULT_REFRESH_TIMEOUT = Duration.ofSeconds(15);
    /** Default minimum interval between two refreshes caused by unknown key ids: 30 s. */
    public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
    /** Default time the last good key set is kept while the provider is unreachable: 30 min. */
    public static final Duration DEFAULT_OUTAGE_TOLERANCE = Duration.ofMinutes(30);
    /** Default bound on one HTTP request (connect, and answer): 5 s. */
    public static final Duration DEFAULT_HTTP_TIMEOUT = Duration.ofSeconds(5);
    /** Default limit on the size of a key set or discovery document: 64 KiB. */
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

    private static final KeySetSettings DEFAULTS = new Builder().build();

    private final Duration cacheTimeToLive;
    private final Duration refreshAhead;
    private final Duration refreshTimeout;
    private final Duration minRefreshInterval;
    private final Duration outageTolerance;
    private final Duration httpTimeout;
    private final int maxResponseBytes;
    private final @Nullable SSLContext sslContext;

    private final Builder settings;

    private KeySetSettings(Builder b) {
        this.settings = new Builder(b);
        this.cacheTimeToLive = b.cacheTimeToLive;
        this.refreshAhead = b.refreshAhead;
        this.refreshTimeout = b.refreshTimeout;
        this.minRefreshInterval = b.minRefreshInterval;
        this.outageTolerance = b.outageTolerance;
        this.httpTimeout = b.httpTimeout;
        this.maxResponseBytes = b.maxResponseBytes;
        this.sslContext = b.sslContext;
    }

    /** @return the defaults described above */
    public static KeySetSettings defaults() {
        return DEFAULTS;
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this key-set configuration's settings */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /** @return how long a fetched key set is used */
    public Duration cacheTimeToLive() {
        return cacheTimeToLive;
    }

    /** @return how long before the cache expires a background refresh starts */
    public Duration refreshAhead() {
        return refreshAhead;
    }

    /** @return how long a verification waits for a refresh in progress */
    public Duration refreshTimeout() {
        return refreshTimeout;
    }

    /** @return the minimum interval between refreshes caused by unknown key ids */
    public Duration minRefreshInterval() {
        return minRefreshInterval;
    }

    /** @return how long the last good key set is kept while the provider is unreachable; zero: not at all */
    public Duration outageTolerance() {
        return outageTolerance;
    }

    /** @return the bound on one HTTP request */
    public Duration httpTimeout() {
        return httpTimeout;
    }

    /** @return the largest answer accepted, in bytes */
    public int maxResponseBytes() {
        return maxResponseBytes;
    }

    /** @return the TLS context for {@code https}, if one was configured (otherwise the JDK's default) */
    public Optional<SSLContext> sslContext() {
        return Optional.ofNullable(sslContext);
    }

    @Override
    public String toString() {
        return "KeySetSettings{cacheTimeToLive=" + cacheTimeToLive + ", refreshAhead=" + refreshAhead + ", refreshTimeout="
                + refreshTimeout + ", minRefreshInterval=" + minRefreshInterval + ", outageTolerance=" + outageTolerance
                + ", httpTimeout=" + httpTimeout + ", maxResponseBytes=" + maxResponseBytes
                + ", trust=" + (sslContext == null ? "JDK default" : "custom") + "}";
    }

    /** Builds {@link KeySetSettings}. Setters validate their argument; {@link #build()} checks that they fit together. */
    public static final class Builder {

        private Duration cacheTimeToLive = DEFAULT_CACHE_TIME_TO_LIVE;
        private Duration refreshAhead = DEFAULT_REFRESH_AHEAD;
        private Duration refreshTimeout = DEFAULT_REFRESH_TIMEOUT;
        private Duration minRefreshInterval = DEFAULT_MIN_REFRESH_INTERVAL;
        private Duration outageTolerance = DEFAULT_OUTAGE_TOLERANCE;
        private Duration httpTimeout = DEFAULT_HTTP_TIMEOUT;
        private int maxResponseBytes = DEFAULT_MAX_RESPONSE_BYTES;
        private @Nullable SSLContext sslContext;

        private Builder(Builder b) {
            cacheTimeToLive = b.cacheTimeToLive;
            refreshAhead = b.refreshAhead;
            refreshTimeout = b.refreshTimeout;
            minRefreshInterval = b.minRefreshInterval;
            outageTolerance = b.outageTolerance;
            httpTimeout = b.httpTimeout;
            maxResponseBytes = b.maxResponseBytes;
            sslContext = b.sslContext;
        }

        private Builder() {
        }

        /**
         * @param ttl how long a fetched key set is used; default {@link #DEFAULT_CACHE_TIME_TO_LIVE}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder cacheTimeToLive(Duration ttl) {
            this.cacheTimeToLive = positive(ttl, "cacheTimeToLive");
            return this;
        }

        /**
         * @param ahead how long before the cache expires a verification starts a background refresh;
         *              default {@link #DEFAULT_REFRESH_AHEAD}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder refreshAhead(Duration ahead) {
            this.refreshAhead = positive(ahead, "refreshAhead");
            return this;
        }

        /**
         * @param timeout how long a verification waits for a refresh another thread started;
         *                default {@link #DEFAULT_REFRESH_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder refreshTimeout(Duration timeout) {
            this.refreshTimeout = positive(timeout, "refreshTimeout");
            return this;
        }

        /**
         * @param interval the minimum interval between refreshes caused by tokens naming an unknown
         *                 key id; default {@link #DEFAULT_MIN_REFRESH_INTERVAL}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder minRefreshInterval(Duration interval) {
            this.minRefreshInterval = positive(interval, "minRefreshInterval");
            return this;
        }

        /**
         * @param tolerance how long the last good key set stays in use while the provider cannot be
         *                  reached, or {@link Duration#ZERO} to refuse tokens as soon as the cache
         *                  expires during an outage; default {@link #DEFAULT_OUTAGE_TOLERANCE}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder outageTolerance(Duration tolerance) {
            Objects.requireNonNull(tolerance, "outageTolerance");
            if (tolerance.isNegative()) {
                throw new IllegalArgumentException("outageTolerance must not be negative, but was " + tolerance);
            }
            this.outageTolerance = tolerance;
            return this;
        }

        /**
         * @param timeout bound on connecting and on the answer of one request; default {@link #DEFAULT_HTTP_TIMEOUT}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder httpTimeout(Duration timeout) {
            this.httpTimeout = positive(timeout, "httpTimeout");
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
         * Trusts the certificates of a key store for {@code https} instead of the JDK's trust store.
         * The server's host name is verified all the same.
         *
         * @param trustStore the trusted certificates
         * @return this builder
         * @throws IllegalArgumentException if the store cannot be used
         */
        public Builder trustStore(KeyStore trustStore) {
            Objects.requireNonNull(trustStore, "trustStore");
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trustStore);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                this.sslContext = ctx;
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("trustStore cannot be used: " + e.getMessage(), e);
            }
            return this;
        }

        /**
         * Uses a TLS context of your own for {@code https} (for example with a client certificate).
         * The server's host name is verified all the same.
         *
         * @param sslContext the TLS context
         * @return this builder
         */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException if {@code refreshAhead + refreshTimeout} is not shorter than
         *                                  {@code cacheTimeToLive}, if {@code minRefreshInterval} is not
         *                                  shorter than {@code cacheTimeToLive}, or if a non-zero
         *                                  {@code outageTolerance} is not longer than {@code cacheTimeToLive}
         */
        public KeySetSettings build() {
            if (refreshAhead.plus(refreshTimeout).compareTo(cacheTimeToLive) >= 0) {
                throw new IllegalArgumentException("refreshAhead (" + refreshAhead + ") plus refreshTimeout (" + refreshTimeout
                        + ") must be shorter than cacheTimeToLive (" + cacheTimeToLive + ")");
            }
            if (minRefreshInterval.compareTo(cacheTimeToLive) >= 0) {
                throw new IllegalArgumentException("minRefreshInterval (" + minRefreshInterval
                        + ") must be shorter than cacheTimeToLive (" + cacheTimeToLive + ")");
            }
            if (!outageTolerance.isZero() && outageTolerance.compareTo(cacheTimeToLive) <= 0) {
                throw new IllegalArgumentException("outageTolerance (" + outageTolerance + ") must be longer than cacheTimeToLive ("
                        + cacheTimeToLive + "), or zero to turn it off");
            }
            return new KeySetSettings(this);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, but was " + d);
            }
            return d;
        }
    }
}
