package dev.tether.benchmarks.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Medians and per-round ratios. NaN values (a metric a contender could not measure) are skipped. */
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
}
