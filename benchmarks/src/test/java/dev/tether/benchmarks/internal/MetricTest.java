package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MetricTest {

    @Test
    void atLeastTargetIsJudgedOnTheMedianRatio() {
        Metric m = Metric.compare("q", "msg/s", true, List.of(90.0, 110.0, 100.0), "HiveMQ",
                List.of(100.0, 100.0, 100.0), Metric.RatioTarget.AT_LEAST, 1.0, ">= 1.0x HiveMQ");
        assertThat(m.ratio()).isEqualTo(1.0);
        assertThat(m.minRatio()).isEqualTo(0.9);
        assertThat(m.maxRatio()).isEqualTo(1.1);
        assertThat(m.met()).isTrue();
        assertThat(m.better()).isEqualTo("higher");
    }

    @Test
    void missedTargetIsReportedAsNotMet() {
        Metric m = Metric.compare("q", "msg/s", true, List.of(50.0, 60.0, 70.0), "Paho",
                List.of(50.0, 50.0, 50.0), Metric.RatioTarget.AT_LEAST, 2.0, ">= 2.0x Paho v3");
        assertThat(m.met()).isFalse();
    }

    @Test
    void atMostTargetForLowerIsBetter() {
        Metric m = Metric.compare("cpu", "s", false, List.of(30.0), "HiveMQ", List.of(20.0),
                Metric.RatioTarget.AT_MOST, 1.0, "<= 1.0x HiveMQ");
        assertThat(m.ratio()).isEqualTo(1.5);
        assertThat(m.met()).isFalse();
        assertThat(m.better()).isEqualTo("lower");
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
    void absoluteTargetsAreUpperBounds() {
        assertThat(Metric.absolute("will", "ms", List.of(12.0), 100, "< 100 ms").met()).isTrue();
        assertThat(Metric.absolute("will", "ms", List.of(150.0), 100, "< 100 ms").met()).isFalse();
        assertThat(Metric.absolute("will", "ms", List.of(Double.NaN), 100, "< 100 ms").met()).isNull();
    }
}
