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
 * @param target    the target in words, or null when none is set
 * @param met       whether the target is met, or null when none is set or nothing was measured
 */
record Metric(String name, String unit, String better, double tether, @Nullable String peerName, @Nullable Double peer,
              @Nullable Double ratio, @Nullable Double minRatio, @Nullable Double maxRatio, @Nullable String target,
              @Nullable Boolean met) {

    /** A target on the ratio Tether/peer. */
    enum RatioTarget {
        NONE, AT_LEAST, AT_MOST
    }

    static Metric compare(String name, String unit, boolean higherIsBetter, List<Double> tether, String peerName,
                          List<Double> peer, RatioTarget kind, double bound, String targetText) {
        List<Double> ratios = Stats.ratios(tether, peer);
        double ratio = Stats.median(ratios);
        Boolean met = null;
        String target = null;
        if (kind != RatioTarget.NONE) {
            target = targetText;
            if (Double.isFinite(ratio)) {
                met = kind == RatioTarget.AT_LEAST ? ratio >= bound : ratio <= bound;
            }
        }
        return new Metric(name, unit, higherIsBetter ? "higher" : "lower", Stats.median(tether), peerName,
                Stats.median(peer), finite(ratio), finite(Stats.min(ratios)), finite(Stats.max(ratios)), target, met);
    }

    static Metric absolute(String name, String unit, List<Double> tether, double upperBound, @Nullable String targetText) {
        double value = Stats.median(tether);
        Boolean met = targetText != null && Double.isFinite(value) ? value < upperBound : null;
        return new Metric(name, unit, "lower", value, null, null, null, null, null, targetText, met);
    }

    private static @Nullable Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
