package dev.tether.core;

import static dev.tether.core.internal.Require.nonNegative;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * When and how often to try again: exponential backoff with jitter, limits, and the stable period
 * after which a connection counts as healthy again.
 *
 * <p>Immutable; create it with {@link #builder()} or take {@link #defaults()}. The delay before
 * attempt {@code n+1} (after {@code n} failures in a row) is
 * {@code jitter(min(maxDelay, initialDelay * multiplier^(n-1)))}, never less than the minimum
 * delay a {@link Verdict} demands. It counts from the moment the failure was reported (the transport's loss,
 * the attempt's failure), so the time the connection and its subscribers take to handle the failure is inside
 * the delay, not added to it. The streak of failures, and with it the backoff, is reset only
 * when a session has stayed up for {@link #stablePeriod()}: a server that accepts and then kicks
 * the client at once does not get hammered.
 *
 * <p><b>Resilience4j.</b> Each connection runs its attempts through a Resilience4j {@code Retry}
 * named after the connection, and the account it gives is the real one: one {@code onRetry} event
 * per retry the connection schedules (with the delay it will wait), one {@code onSuccess} event when
 * a session is established after failures, and one {@code onError} event when the connection gives
 * up (retries exhausted by {@link #maxAttempts()}, {@link #maxElapsed()} or a verdict's cap, or a
 * {@link Verdict.Kind#FATAL} verdict). The events carry the real failure. A streak that ends with a
 * session counts as a successful call, with or without retry. Give a {@link Builder#retryRegistry
 * RetryRegistry} to see these instances in Resilience4j's own event publishers and Micrometer
 * binders ({@code TaggedRetryMetrics}); give a {@link Builder#circuitBreakerRegistry
 * CircuitBreakerRegistry} to give each connection its own breaker, or a {@link Builder#circuitBreaker
 * CircuitBreaker} to share one between connections. An instance a connection puts in a registry is
 * removed from it when the connection closes.
 */
public final class ReconnectPolicy {

    /**
     * Default first delay: 1 s (with full jitter, 0.5 s on average). Chosen with the benchmarks' storm
     * simulation: a million clients against a broker that admits 10,000 connections per second come
     * back within 1.5x the ideal time with fewer attempts than HiveMQ's client's default policy.
     */
    public static final Duration DEFAULT_INITIAL_DELAY = Duration.ofSeconds(1);
    /** Default growth factor per failure: 3 (bounds of 1 s, 3 s, 9 s, 27 s, then the cap). */
    public static final double DEFAULT_MULTIPLIER = 3.0;
    /** Default cap on the exponential bound: 60 s. */
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(60);
    /** Default jitter: {@link Jitter#FULL}. */
    public static final Jitter DEFAULT_JITTER = Jitter.FULL;
    /** Default time a session must stay up before the backoff resets: 10 s. */
    public static final Duration DEFAULT_STABLE_PERIOD = Duration.ofSeconds(10);
    /** Default attempt limit: 0, meaning unlimited. */
    public static final int DEFAULT_MAX_ATTEMPTS = 0;

    private static final ReconnectPolicy DEFAULTS = builder().build();

    private final Duration initialDelay;
    private final double multiplier;
    private final Duration maxDelay;
    private final Jitter jitter;
    private final int maxAttempts;
    private final @Nullable Duration maxElapsed;
    private final Duration stablePeriod;
    private final @Nullable CircuitBreaker circuitBreaker;
    private final @Nullable RetryRegistry retryRegistry;
    private final @Nullable CircuitBreakerRegistry circuitBreakerRegistry;

    private ReconnectPolicy(Builder b) {
        this.initialDelay = b.initialDelay;
        this.multiplier = b.multiplier;
        this.maxDelay = b.maxDelay;
        this.jitter = b.jitter;
        this.maxAttempts = b.maxAttempts;
        this.maxElapsed = b.maxElapsed;
        this.stablePeriod = b.stablePeriod;
        this.circuitBreaker = b.circuitBreaker;
        this.retryRegistry = b.retryRegistry;
        this.circuitBreakerRegistry = b.circuitBreakerRegistry;
    }

    /** @return the default policy: 1 s, x3, 60 s cap, full jitter, unlimited, 10 s stable period */
    public static ReconnectPolicy defaults() {
        return DEFAULTS;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder prefilled with this policy */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * The exponential bound for the delay after {@code failures} failures in a row, capped at
     * {@link #maxDelay()}, before jitter.
     *
     * @param failures failures in the current streak, at least 1
     * @return the capped bound
     */
    public Duration bound(int failures) {
        double nanos = initialDelay.toNanos() * Math.pow(multiplier, Math.max(0, failures - 1));
        if (Double.isNaN(nanos) || nanos >= maxDelay.toNanos()) {
            return maxDelay;
        }
        return Duration.ofNanos((long) nanos);
    }

    /**
     * @param failures failures in the current streak, at least 1
     * @param random   uniformly distributed in {@code [0, 1)}
     * @return the delay before the next attempt
     */
    public Duration delay(int failures, double random) {
        return jitter.apply(bound(failures), random);
    }

    /** @return the bound of the first delay */
    public Duration initialDelay() {
        return initialDelay;
    }

    /** @return the growth factor per failure */
    public double multiplier() {
        return multiplier;
    }

    /** @return the cap on the exponential bound */
    public Duration maxDelay() {
        return maxDelay;
    }

    /** @return the jitter */
    public Jitter jitter() {
        return jitter;
    }

    /** @return the most attempts in one streak of failures, 0 for unlimited */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** @return the longest a streak of failures may last before giving up, if limited */
    public Optional<Duration> maxElapsed() {
        return Optional.ofNullable(maxElapsed);
    }

    /** @return how long a session must stay up before the backoff resets */
    public Duration stablePeriod() {
        return stablePeriod;
    }

    /** @return the circuit breaker every attempt must pass, shared by every connection with this policy, if any */
    public Optional<CircuitBreaker> circuitBreaker() {
        return Optional.ofNullable(circuitBreaker);
    }

    /**
     * @return the registry in which each connection puts its {@code Retry}, named after the
     *         connection, if any
     */
    public Optional<RetryRegistry> retryRegistry() {
        return Optional.ofNullable(retryRegistry);
    }

    /**
     * @return the registry from which each connection takes a circuit breaker of its own, named after
     *         the connection, if any
     */
    public Optional<CircuitBreakerRegistry> circuitBreakerRegistry() {
        return Optional.ofNullable(circuitBreakerRegistry);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReconnectPolicy p && initialDelay.equals(p.initialDelay)
                && Double.compare(multiplier, p.multiplier) == 0 && maxDelay.equals(p.maxDelay)
                && jitter == p.jitter && maxAttempts == p.maxAttempts
                && Objects.equals(maxElapsed, p.maxElapsed) && stablePeriod.equals(p.stablePeriod)
                && circuitBreaker == p.circuitBreaker && retryRegistry == p.retryRegistry
                && circuitBreakerRegistry == p.circuitBreakerRegistry;
    }

    @Override
    public int hashCode() {
        return Objects.hash(initialDelay, multiplier, maxDelay, jitter, maxAttempts, maxElapsed, stablePeriod,
                System.identityHashCode(circuitBreaker), System.identityHashCode(retryRegistry),
                System.identityHashCode(circuitBreakerRegistry));
    }

    @Override
    public String toString() {
        return "ReconnectPolicy{initialDelay=" + initialDelay + ", multiplier=" + multiplier + ", maxDelay=" + maxDelay
                + ", jitter=" + jitter + ", maxAttempts=" + (maxAttempts == 0 ? "unlimited" : maxAttempts)
                + ", maxElapsed=" + (maxElapsed == null ? "unlimited" : maxElapsed) + ", stablePeriod=" + stablePeriod
                + (circuitBreaker == null ? "" : ", circuitBreaker=" + circuitBreaker.getName())
                + (retryRegistry == null ? "" : ", retryRegistry")
                + (circuitBreakerRegistry == null ? "" : ", circuitBreakerRegistry") + "}";
    }

    /**
     * Builds a {@link ReconnectPolicy}. Every setter validates its argument at once and names the
     * field and the bad value; {@link #build()} checks the combination.
     */
    public static final class Builder {
        private Duration initialDelay = DEFAULT_INITIAL_DELAY;
        private double multiplier = DEFAULT_MULTIPLIER;
        private Duration maxDelay = DEFAULT_MAX_DELAY;
        private Jitter jitter = DEFAULT_JITTER;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
        private @Nullable Duration maxElapsed;
        private Duration stablePeriod = DEFAULT_STABLE_PERIOD;
        private @Nullable CircuitBreaker circuitBreaker;
        private @Nullable RetryRegistry retryRegistry;
        private @Nullable CircuitBreakerRegistry circuitBreakerRegistry;

        private Builder() {
        }

        private Builder(ReconnectPolicy p) {
            initialDelay = p.initialDelay;
            multiplier = p.multiplier;
            maxDelay = p.maxDelay;
            jitter = p.jitter;
            maxAttempts = p.maxAttempts;
            maxElapsed = p.maxElapsed;
            stablePeriod = p.stablePeriod;
            circuitBreaker = p.circuitBreaker;
            retryRegistry = p.retryRegistry;
            circuitBreakerRegistry = p.circuitBreakerRegistry;
        }

        /**
         * @param initialDelay the bound of the first delay; default {@link #DEFAULT_INITIAL_DELAY}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder initialDelay(Duration initialDelay) {
            this.initialDelay = nonNegative("initialDelay", initialDelay);
            return this;
        }

        /**
         * @param multiplier growth per failure, at least 1; default {@link #DEFAULT_MULTIPLIER}
         * @return this builder
         * @throws IllegalArgumentException if below 1 or not finite
         */
        public Builder multiplier(double multiplier) {
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("multiplier must be a finite number >= 1, but was " + multiplier);
            }
            this.multiplier = multiplier;
            return this;
        }

        /**
         * @param maxDelay cap on the exponential bound; default {@link #DEFAULT_MAX_DELAY}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder maxDelay(Duration maxDelay) {
            this.maxDelay = nonNegative("maxDelay", maxDelay);
            return this;
        }

        /**
         * @param jitter how delays are randomised; default {@link Jitter#FULL}
         * @return this builder
         */
        public Builder jitter(Jitter jitter) {
            this.jitter = Objects.requireNonNull(jitter, "jitter");
            return this;
        }

        /**
         * @param maxAttempts most attempts in one streak of failures, 0 for unlimited (the default)
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 0) {
                throw new IllegalArgumentException("maxAttempts must be >= 0 (0 = unlimited), but was " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** @return this builder, with no attempt or elapsed-time limit */
        public Builder unlimited() {
            this.maxAttempts = 0;
            this.maxElapsed = null;
            return this;
        }

        /**
         * @param maxElapsed longest a streak of failures may last, or null for unlimited (the default)
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxElapsed(@Nullable Duration maxElapsed) {
            if (maxElapsed != null && (maxElapsed.isNegative() || maxElapsed.isZero())) {
                throw new IllegalArgumentException("maxElapsed must be positive, but was " + maxElapsed);
            }
            this.maxElapsed = maxElapsed;
            return this;
        }

        /**
         * @param stablePeriod how long a session must stay up before the backoff resets;
         *                     default {@link #DEFAULT_STABLE_PERIOD}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder stablePeriod(Duration stablePeriod) {
            this.stablePeriod = nonNegative("stablePeriod", stablePeriod);
            return this;
        }

        /**
         * @param circuitBreaker a Resilience4j circuit breaker every attempt must pass, shared by every
         *                       connection built with this policy, or null for none (the default); while
         *                       it is open, attempts are refused and retried later. Not together with
         *                       {@link #circuitBreakerRegistry}.
         * @return this builder
         */
        public Builder circuitBreaker(@Nullable CircuitBreaker circuitBreaker) {
            this.circuitBreaker = circuitBreaker;
            return this;
        }

        /**
         * @param retryRegistry a Resilience4j registry in which each connection built with this policy
         *                      puts its {@code Retry}, named after the connection (its configuration is
         *                      this policy's, not the registry's default), or null for none (the
         *                      default: the {@code Retry} is private to the connection). Connections that
         *                      share a registry need distinct names.
         * @return this builder
         */
        public Builder retryRegistry(@Nullable RetryRegistry retryRegistry) {
            this.retryRegistry = retryRegistry;
            return this;
        }

        /**
         * @param circuitBreakerRegistry a Resilience4j registry from which each connection built with this
         *                               policy takes a circuit breaker of its own, named after the connection,
         *                               or null for none (the default). A breaker already in the registry
         *                               under that name is used as it is (so one connection can have its own
         *                               configuration) and left there; otherwise one is created with the
         *                               registry's default configuration and removed when the connection
         *                               closes. Not together with {@link #circuitBreaker}.
         * @return this builder
         */
        public Builder circuitBreakerRegistry(@Nullable CircuitBreakerRegistry circuitBreakerRegistry) {
            this.circuitBreakerRegistry = circuitBreakerRegistry;
            return this;
        }

        /**
         * @return the policy
         * @throws IllegalArgumentException if {@code initialDelay} exceeds {@code maxDelay}, or if both a
         *                                  shared circuit breaker and a circuit-breaker registry were given
         */
        public ReconnectPolicy build() {
            if (circuitBreaker != null && circuitBreakerRegistry != null) {
                throw new IllegalArgumentException("give either circuitBreaker (one breaker shared by the connections) or "
                        + "circuitBreakerRegistry (one breaker per connection), not both");
            }
            if (initialDelay.compareTo(maxDelay) > 0) {
                throw new IllegalArgumentException("initialDelay (" + initialDelay + ") must not exceed maxDelay (" + maxDelay + ")");
            }
            return new ReconnectPolicy(this);
        }

    }
}
