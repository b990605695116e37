package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricTest {

    @Test
    void aTargetIsMetOnlyWhenTheWholeIntervalClearsIt() {
        Metric m = Metric.compare("q", "msg/s", true, List.of(130.0, 140.0, 150.0, 135.0, 145.0), "HiveMQ",
                List.of(100.0, 100.0, 100.0, 100.0, 100.0), Metric.RatioTarget.AT_LEAST, 1.25, ">= 1.25x HiveMQ");
        assertThat(m.ratio()).isEqualTo(1.4);
        assertThat(m.minRatio()).isEqualTo(1.3);
        assertThat(m.maxRatio()).isEqualTo(1.5);
        assertThat(m.ciLow()).isBetween(1.3, 1.4);
        assertThat(m.ciHigh()).isBetween(1.4, 1.5);
        assertThat(m.verdict()).isEqualTo(Metric.MET);
        assertThat(m.met()).isTrue();
        assertThat(m.samples()).isEqualTo(5);
        assertThat(m.better()).isEqualTo("higher");
    }

    @Test
    void aMedianAboveTheTargetWithAnIntervalAcrossItIsNotShown() {
        Metric m = Metric.compare("q", "msg/s", true, List.of(90.0, 110.0, 130.0, 140.0, 150.0), "HiveMQ",
                List.of(100.0, 100.0, 100.0, 100.0, 100.0), Metric.RatioTarget.AT_LEAST, 1.25, ">= 1.25x HiveMQ");
        assertThat(m.ratio()).isEqualTo(1.3);
        assertThat(m.ciLow()).isLessThan(1.25);
        assertThat(m.verdict()).isEqualTo(Metric.NOT_SHOWN);
        assertThat(m.met()).isFalse();
    }

    @Test
    void anIntervalEntirelyOnTheWrongSideIsMissed() {
        Metric m = Metric.compare("q", "msg/s", true, List.of(50.0, 60.0, 70.0, 55.0, 65.0), "Paho",
                List.of(50.0, 50.0, 50.0, 50.0, 50.0), Metric.RatioTarget.AT_LEAST, 2.0, ">= 2.0x Paho v3");
        assertThat(m.ciHigh()).isLessThan(2.0);
        assertThat(m.verdict()).isEqualTo(Metric.MISSED);
        assertThat(m.met()).isFalse();
    }

    @Test
    void atMostTargetForLowerIsBetter() {
        Metric m = Metric.compare("cpu", "s", false, List.of(30.0), "HiveMQ", List.of(20.0),
                Metric.RatioTarget.AT_MOST, 1.0, "<= 1.0x HiveMQ");
        assertThat(m.ratio()).isEqualTo(1.5);
        assertThat(m.ciLow()).isNull();
        assertThat(m.verdict()).isEqualTo("missed, 1 run");
        assertThat(m.met()).isFalse();
        assertThat(m.better()).isEqualTo("lower");
        Metric low = Metric.compare("cpu", "s", false, List.of(7.0, 6.0, 8.0, 7.0), "HiveMQ",
                List.of(10.0, 10.0, 10.0, 10.0), Metric.RatioTarget.AT_MOST, 0.8, "<= 0.8x HiveMQ");
        assertThat(low.verdict()).isEqualTo(Metric.MET);
    }

    @Test
    void noTargetAndNothingMeasuredLeaveMetEmpty() {
        Metric none = Metric.compare("lat", "µs", false, List.of(1.0), "HiveMQ", List.of(2.0),
                Metric.RatioTarget.NONE, 0, "");
        assertThat(none.met()).isNull();
        assertThat(none.target()).isNull();
        Metric missing = Metric.compare("q", "msg/s", true, List.of(Double.NaN), "HiveMQ", List.of(2.0),
                Metric.RatioTarget.AT_LEAST, 1.0, ">= 1.0x");
        assertThat(missing.met()).isNull();
        assertThat(missing.ratio()).isNull();
    }

    @Test
    void absoluteTargetsAreStrictUpperBounds() {
        assertThat(Metric.absolute("will", "ms", List.of(12.0), 100, "< 100 ms").met()).isTrue();
        assertThat(Metric.absolute("will", "ms", List.of(150.0), 100, "< 100 ms").met()).isFalse();
        assertThat(Metric.absolute("lost", "messages", List.of(1.0), 1, "0").met()).isFalse();
        assertThat(Metric.absolute("will", "ms", List.of(Double.NaN), 100, "< 100 ms").met()).isNull();
        Metric rounds = Metric.absolute("rc", "ms", List.of(4.0, 6.0, 5.5, 3.0, 7.0), 5, "< 5 ms");
        assertThat(rounds.tether()).isEqualTo(5.5);
        assertThat(rounds.verdict()).isEqualTo(Metric.NOT_SHOWN);
        assertThat(Metric.absolute("rc", "ms", List.of(2.0, 2.5, 3.0, 2.2), 5, "< 5 ms").verdict()).isEqualTo(Metric.MET);
        assertThat(Metric.absolute("rc", "ms", List.of(9.0, 12.0, 10.0, 11.0), 5, "< 5 ms").verdict())
                .isEqualTo(Metric.MISSED);
    }
}
