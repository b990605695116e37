package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(Stats.median(List.of(5.0, 1.0, 3.0))).isEqualTo(3.0);
        assertThat(Stats.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
    }

    @Test
    void medianSkipsMissingValuesAndIsNaNWhenNothingWasMeasured() {
        assertThat(Stats.median(List.of(Double.NaN, 7.0, 1.0, Double.NaN))).isEqualTo(4.0);
        assertThat(Stats.median(List.of(Double.NaN))).isNaN();
        assertThat(Stats.median(List.of())).isNaN();
    }

    @Test
    void ratiosArePerRoundAndSkipRoundsWithoutBothValues() {
        List<Double> ratios = Stats.ratios(List.of(10.0, 30.0, Double.NaN, 8.0), List.of(5.0, 10.0, 4.0, 0.0));
        assertThat(ratios).containsExactly(2.0, 3.0);
        assertThat(Stats.min(ratios)).isEqualTo(2.0);
        assertThat(Stats.max(ratios)).isEqualTo(3.0);
    }

    @Test
    void ratiosRefuseSeriesOfDifferentLength() {
        assertThatThrownBy(() -> Stats.ratios(List.of(1.0), List.of(1.0, 2.0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tether has 1, peer 2");
    }

    @Test
    void medianOfRatiosIsNotRatioOfMedians() {
        // Round by round Tether is twice as fast, although medians of the raw values say 1.5x.
        List<Double> tether = List.of(2.0, 6.0, 30.0);
        List<Double> peer = List.of(1.0, 3.0, 15.0);
        assertThat(Stats.median(Stats.ratios(tether, peer))).isEqualTo(2.0);
    }

    @Test
    void bootstrapIntervalOfTheMedianLiesWithinTheValuesAndNarrowsWithAgreement() {
        List<Double> spread = List.of(0.8, 1.0, 1.2, 1.4, 1.9, 0.9, 1.1);
        double[] wide = Stats.bootstrapMedian(spread, 1);
        assertThat(wide[0]).isGreaterThanOrEqualTo(0.8).isLessThan(Stats.median(spread));
        assertThat(wide[1]).isLessThanOrEqualTo(1.9).isGreaterThan(Stats.median(spread));
        double[] narrow = Stats.bootstrapMedian(List.of(1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0), 1);
        assertThat(narrow[1] - narrow[0]).isLessThan((wide[1] - wide[0]) / 5);
    }

    @Test
    void bootstrapIsRepeatableForASeedAndNeedsTwoValues() {
        List<Double> values = List.of(3.0, 1.0, 4.0, 1.0, 5.0, 9.0);
        assertThat(Stats.bootstrapMedian(values, 7)).containsExactly(Stats.bootstrapMedian(values, 7));
        assertThat(Stats.bootstrapMedian(List.of(2.0, Double.NaN), 7)[0]).isNaN();
    }

    @Test
    void percentileInterpolates() {
        assertThat(Stats.percentile(new double[]{1, 2, 3, 4, 5}, 0.5)).isEqualTo(3.0);
        assertThat(Stats.percentile(new double[]{0, 10}, 0.25)).isEqualTo(2.5);
    }
}
