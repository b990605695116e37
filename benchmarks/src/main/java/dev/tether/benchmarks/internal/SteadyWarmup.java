package dev.tether.benchmarks.internal;

import java.time.Duration;

/**
 * Decides when a warm-up is over: throughput is counted in consecutive windows of {@link #WINDOW},
 * and the warm-up ends once the last {@link #STEADY_WINDOWS} windows agree within
 * {@link #TOLERANCE} of their mean (after at least the minimum), or at the maximum in any case.
 * Not thread-safe: the one loop that sends asks it.
 */
final class SteadyWarmup {

    /** Length of one counting window. */
    static final Duration WINDOW = Duration.ofMillis(200);
    /** How many consecutive windows must agree. */
    static final int STEADY_WINDOWS = 3;
    /** How far the windows may spread: (max - min) / mean. */
    static final double TOLERANCE = 0.10;

    private final long start;
    private final long minNanos;
    private final long maxNanos;
    private final double[] rates = new double[STEADY_WINDOWS];
    private int windows;
    private long windowStart;
    private long windowCount;
    private long endedAt = -1;
    private boolean steady;

    /**
     * @param min        the least warm-up, whatever the windows say
     * @param max        the most warm-up: after it the measurement starts, steady or not
     * @param startNanos {@link System#nanoTime()} at the start
     * @param startCount the completed operations at the start
     */
    SteadyWarmup(Duration min, Duration max, long startNanos, long startCount) {
        if (min.compareTo(max) > 0) {
            throw new IllegalArgumentException("the minimum warm-up (" + min + ") must not exceed the maximum (" + max + ")");
        }
        this.start = startNanos;
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
        this.windowStart = startNanos;
        this.windowCount = startCount;
    }

    /**
     * @param now   {@link System#nanoTime()}
     * @param count the completed operations so far
     * @return whether the warm-up is over (stays true once it is)
     */
    boolean done(long now, long count) {
        if (endedAt >= 0) {
            return true;
        }
        if (now - windowStart >= WINDOW.toNanos()) {
            rates[windows % STEADY_WINDOWS] = (count - windowCount) * 1e9 / (now - windowStart);
            windows++;
            windowStart = now;
            windowCount = count;
            if (now - start >= minNanos && windows >= STEADY_WINDOWS && agree()) {
                steady = true;
                endedAt = now;
                return true;
            }
        }
        if (now - start >= maxNanos) {
            endedAt = now;
            return true;
        }
        return false;
    }

    private boolean agree() {
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        for (double r : rates) {
            min = Math.min(min, r);
            max = Math.max(max, r);
            sum += r;
        }
        double mean = sum / rates.length;
        return mean > 0 && (max - min) / mean <= TOLERANCE;
    }

    /** @return whether the warm-up ended because throughput was steady (false: it hit the maximum) */
    boolean steady() {
        return steady;
    }

    /** @return how long the warm-up took, in milliseconds, or -1 while it goes on */
    double tookMillis() {
        return endedAt < 0 ? -1 : (endedAt - start) / 1e6;
    }
}
