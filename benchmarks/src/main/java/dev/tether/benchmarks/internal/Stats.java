package dev.tether.benchmarks.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Medians, per-round ratios and bootstrap intervals. NaN values (a metric a contender could not
 * measure) are skipped.
 */
final class Stats {

    private Stats() {
    }

    /**
     * @param values the values
     * @return the median of the finite values (the mean of the two middle ones for an even count), or NaN if none
     */
    static double median(List<Double> values) {
        List<Double> finite = new ArrayList<>();
        for (Double v : values) {
            if (v != null && Double.isFinite(v)) {
                finite.add(v);
            }
        }
        if (finite.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(finite);
        int n = finite.size();
        return n % 2 == 1 ? finite.get(n / 2) : (finite.get(n / 2 - 1) + finite.get(n / 2)) / 2.0;
    }

    /**
     * Ratios of Tether to peer, round by round (rounds where either is missing or the peer is zero are skipped).
     *
     * @param tether Tether's value per round
     * @param peer   the peer's value per round, same order
     * @return the per-round ratios
     */
    static List<Double> ratios(List<Double> tether, List<Double> peer) {
        if (tether.size() != peer.size()) {
            throw new IllegalArgumentException("rounds differ: tether has " + tether.size() + ", peer " + peer.size());
        }
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < tether.size(); i++) {
            Double t = tether.get(i);
            Double p = peer.get(i);
            if (t != null && p != null && Double.isFinite(t) && Double.isFinite(p) && p != 0.0) {
                ratios.add(t / p);
            }
        }
        return ratios;
    }

    static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).min().orElse(Double.NaN);
    }

    static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).max().orElse(Double.NaN);
    }

    /** How many resamples a bootstrap interval draws. */
    static final int RESAMPLES = 4000;

    /**
     * A 95% percentile bootstrap interval of the median: the values (one per round) are drawn with
     * replacement, as many as there are, {@link #RESAMPLES} times; the median of each resample is
     * taken, and the interval runs from the 2.5th to the 97.5th percentile of those medians.
     *
     * @param values one value per round (for a ratio: the per-round ratios, so pairs stay paired)
     * @param seed   the resampling seed, so the same values always give the same interval
     * @return {@code {low, high}}, or {@code {NaN, NaN}} with fewer than two finite values
     */
    static double[] bootstrapMedian(List<Double> values, long seed) {
        double[] finite = values.stream().filter(v -> v != null && Double.isFinite(v)).mapToDouble(Double::doubleValue)
                .toArray();
        int n = finite.length;
        if (n < 2) {
            return new double[]{Double.NaN, Double.NaN};
        }
        Random random = new Random(seed);
        double[] medians = new double[RESAMPLES];
        double[] sample = new double[n];
        for (int b = 0; b < RESAMPLES; b++) {
            for (int i = 0; i < n; i++) {
                sample[i] = finite[random.nextInt(n)];
            }
            Arrays.sort(sample);
            medians[b] = n % 2 == 1 ? sample[n / 2] : (sample[n / 2 - 1] + sample[n / 2]) / 2.0;
        }
        Arrays.sort(medians);
        return new double[]{percentile(medians, 0.025), percentile(medians, 0.975)};
    }

    /** @return the p-quantile of sorted values, interpolated linearly between neighbours */
    static double percentile(double[] sorted, double p) {
        double pos = p * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
