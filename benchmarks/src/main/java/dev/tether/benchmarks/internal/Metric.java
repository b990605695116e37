package dev.tether.benchmarks.internal;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One row of the report: a metric for Tether against one peer (or against a target alone).
 *
 * @param name      e.g. {@code mqtt_qos1_ack_msgs_per_s_100B}
 * @param unit      e.g. {@code msg/s}
 * @param better    {@code higher} or {@code lower}
 * @param tether    Tether's median over the rounds
 * @param peerName  the peer, or null for a metric judged against its target only
 * @param peer      the peer's median, or null
 * @param ratio     the median of the per-round ratios Tether/peer, or null
 * @param minRatio  the smallest per-round ratio, or null
 * @param maxRatio  the largest per-round ratio, or null
 * @param ciLow     the low end of the 95% bootstrap interval of the median ratio (of the value for a
 *                  metric without peer), or null with fewer than two rounds
 * @param ciHigh    the high end of that interval, or null
 * @param target    the target in words, or null when none is set
 * @param met       true only when the interval clears the target (or, for a metric measured once, the
 *                  one value does: see {@code verdict}); false when it does not; null when no target is
 *                  set or nothing was measured
 * @param verdict   {@code met}, {@code not shown} (the interval straddles the target), {@code missed}
 *                  (the interval is entirely on the wrong side), {@code met, 1 run} / {@code missed, 1 run}
 *                  (measured once, no interval), or null without a target
 * @param samples   how many values (rounds, or trials) the median and the interval come from
 * @param tetherValues Tether's value in each round (or trial), in order, null where it was not measured
 * @param peerValues   the peer's value in each round, in the same order; empty without a peer
 */
record Metric(String name, String unit, String better, double tether, @Nullable String peerName, @Nullable Double peer,
              @Nullable Double ratio, @Nullable Double minRatio, @Nullable Double maxRatio, @Nullable Double ciLow,
              @Nullable Double ciHigh, @Nullable String target, @Nullable Boolean met, @Nullable String verdict,
              int samples, List<@Nullable Double> tetherValues, List<@Nullable Double> peerValues) {

    Metric {
        tetherValues = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(tetherValues));
        peerValues = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(peerValues));
    }

    /** The interval clears the target. */
    static final String MET = "met";
    /** The interval straddles the target. */
    static final String NOT_SHOWN = "not shown";
    /** The interval lies entirely on the wrong side of the target. */
    static final String MISSED = "missed";

    /** A target on the ratio Tether/peer. */
    enum RatioTarget {
        NONE, AT_LEAST, AT_MOST,
        /** Strictly below the bound (the absolute metrics). */
        BELOW,
        /** Within {@code 1 ± bound} (a model against a measurement). */
        WITHIN
    }

    static Metric compare(String name, String unit, boolean higherIsBetter, List<Double> tether, String peerName,
                          List<Double> peer, RatioTarget kind, double bound, String targetText) {
        List<Double> ratios = Stats.ratios(tether, peer);
        double ratio = Stats.median(ratios);
        double[] ci = Stats.bootstrapMedian(ratios, seed(name, peerName));
        String target = kind == RatioTarget.NONE ? null : targetText;
        String verdict = kind == RatioTarget.NONE || !Double.isFinite(ratio) ? null
                : verdict(kind, bound, ratio, ci, ratios.size());
        return new Metric(name, unit, higherIsBetter ? "higher" : "lower", Stats.median(tether), peerName,
                Stats.median(peer), finite(ratio), finite(Stats.min(ratios)), finite(Stats.max(ratios)), finite(ci[0]),
                finite(ci[1]), target, met(verdict), verdict, ratios.size(), tether, peer);
    }

    /**
     * A metric without peer, judged against an upper bound: met only when the interval of the median
     * (over the given values: rounds or trials) lies below it.
     */
    static Metric absolute(String name, String unit, List<Double> tether, double upperBound, @Nullable String targetText) {
        double value = Stats.median(tether);
        double[] ci = Stats.bootstrapMedian(tether, seed(name, ""));
        int samples = (int) tether.stream().filter(v -> v != null && Double.isFinite(v)).count();
        String verdict = targetText == null || !Double.isFinite(value) ? null
                : verdict(RatioTarget.BELOW, upperBound, value, ci, samples);
        return new Metric(name, unit, "lower", value, null, null, null, null, null, finite(ci[0]), finite(ci[1]),
                targetText, met(verdict), verdict, samples, tether, List.of());
    }

    /**
     * @param kind    the kind of bound
     * @param bound   the bound
     * @param value   the median
     * @param ci      the interval of the median, NaN when there is none
     * @param samples how many values the median comes from
     * @return {@link #MET}, {@link #NOT_SHOWN} or {@link #MISSED}; with one value and no interval, the
     *         verdict of that value marked {@code 1 run}
     */
    static String verdict(RatioTarget kind, double bound, double value, double[] ci, int samples) {
        if (samples < 2 || !Double.isFinite(ci[0]) || !Double.isFinite(ci[1])) {
            return (ok(kind, bound, value) ? MET : MISSED) + ", 1 run";
        }
        if (kind == RatioTarget.WITHIN) {
            boolean low = ok(kind, bound, ci[0]);
            boolean high = ok(kind, bound, ci[1]);
            return low && high ? MET : !low && !high && (ci[1] < 1 - bound || ci[0] > 1 + bound) ? MISSED : NOT_SHOWN;
        }
        // Met when even the unfavourable end of the interval meets the bound; missed when even the favourable one fails.
        boolean higher = kind == RatioTarget.AT_LEAST;
        double worst = higher ? ci[0] : ci[1];
        double best = higher ? ci[1] : ci[0];
        return ok(kind, bound, worst) ? MET : ok(kind, bound, best) ? NOT_SHOWN : MISSED;
    }

    private static boolean ok(RatioTarget kind, double bound, double value) {
        return switch (kind) {
            case AT_LEAST -> value >= bound;
            case AT_MOST -> value <= bound;
            case BELOW -> value < bound;
            case WITHIN -> value >= 1 - bound && value <= 1 + bound;
            case NONE -> true;
        };
    }

    private static @Nullable Boolean met(@Nullable String verdict) {
        return verdict == null ? null : verdict.startsWith(MET);
    }

    /** The same metric always resamples the same way: the interval is a function of the values alone. */
    private static long seed(String name, String peer) {
        return name.hashCode() * 31L + peer.hashCode();
    }

    private static @Nullable Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
