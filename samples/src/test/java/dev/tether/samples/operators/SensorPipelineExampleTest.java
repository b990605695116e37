package dev.tether.samples.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Health;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SensorPipelineExampleTest {

    @Test
    void readingsSurviveAnOutageInOrderWithTheOldestDropped() {
        SensorPipelineExample.Outcome o = SensorPipelineExample.run(new String[0]);
        List<Long> readings = o.delivered().stream().filter(p -> p.startsWith("reading-"))
                .map(p -> Long.parseLong(p.substring(8))).distinct().toList();
        assertThat(readings).isSorted().contains(59L);
        assertThat(o.dropped()).isNotEmpty();
        // Every reading was delivered or reported dropped: the buffer loses nothing silently.
        IntStream.range(0, 60).forEach(n -> assertThat(readings.contains((long) n) || o.dropped().contains((long) n))
                .as("reading " + n).isTrue());
        assertThat(o.delivered().stream().filter(p -> p.startsWith("session ")).count()).as("hello once per session").isGreaterThanOrEqualTo(2);
        assertThat(o.health()).containsSubsequence(Health.Status.UP, Health.Status.RECONNECTING, Health.Status.UP, Health.Status.OUT_OF_SERVICE);
    }
}
