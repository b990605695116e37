package dev.tether.core;

import java.time.Duration;

/**
 * How a backoff delay is randomised so that many clients that lost the same server do not
 * come back in lock step.
 */
public enum Jitter {
    /** A uniformly random delay between zero and the exponential bound. The default. */
    FULL {
        @Override
        public Duration apply(Duration bound, double random) {
            return Duration.ofNanos((long) (bound.toNanos() * random));
        }
    },
    /** Half the exponential bound plus a uniformly random part of the other half. */
    EQUAL {
        @Override
        public Duration apply(Duration bound, double random) {
            long half = bound.toNanos() / 2;
            return Duration.ofNanos(half + (long) (half * random));
        }
    },
    /** No randomness: exactly the exponential bound. */
    NONE {
        @Override
        public Duration apply(Duration bound, double random) {
            return bound;
        }
    };

    /**
     * @param bound  the exponential delay for this attempt, already capped
     * @param random a uniformly distributed number in {@code [0, 1)}
     * @return the delay to wait
     */
    public abstract Duration apply(Duration bound, double random);
}
