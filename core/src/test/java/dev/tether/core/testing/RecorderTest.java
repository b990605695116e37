package dev.tether.core.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Sinks;

/** The recorder's two ways to wait: {@code await} from the start, {@code next} in order. */
class RecorderTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Duration SHORT = Duration.ofMillis(50);

    private final Sinks.Many<Object> sink = Sinks.many().multicast().directBestEffort();

    @Test
    void awaitFindsAnItemRecordedBeforeTheCallAndAgainAfterwards() {
        try (Recorder<Object> rec = Recorder.of(sink.asFlux())) {
            sink.tryEmitNext("a");
            sink.tryEmitNext(1);
            assertThat(rec.await(String.class, WAIT)).isEqualTo("a");
            assertThat(rec.await(String.class, WAIT)).as("await always looks from the start").isEqualTo("a");
            assertThat(rec.await(Integer.class, i -> i == 1, WAIT)).isEqualTo(1);
            assertThat(rec.await(o -> o.equals(1), WAIT)).isEqualTo(1);
        }
    }

    @Test
    void nextReadsInOrderAndNeverReturnsAnItemTwice() {
        try (Recorder<Object> rec = Recorder.of(sink.asFlux())) {
            sink.tryEmitNext("a");
            sink.tryEmitNext(1);
            sink.tryEmitNext("b");
            assertThat(rec.next(Integer.class, WAIT)).isEqualTo(1);
            assertThat(rec.next(String.class, WAIT)).as("\"a\" came before 1: skipped").isEqualTo("b");
            assertThatThrownBy(() -> rec.next(String.class, SHORT))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("no String within 50 ms")
                    .hasMessageContaining("b");
            assertThat(rec.items()).containsExactly("a", 1, "b");
            assertThat(rec.names()).containsExactly("String", "Integer", "String");
        }
    }

    @Test
    void nextWaitsForAnItemThatArrivesLaterAndKeepsItsArrivalTime() throws Exception {
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try (Recorder<Object> rec = Recorder.of(sink.asFlux())) {
            sink.tryEmitNext("first");
            Recorder.Timed<String> first = rec.nextTimed(String.class, WAIT);
            later.schedule(() -> sink.tryEmitNext("second"), 100, TimeUnit.MILLISECONDS);
            Recorder.Timed<String> second = rec.nextTimed(String.class, s -> s.startsWith("s"), WAIT);
            assertThat(second.item()).isEqualTo("second");
            assertThat(second.nanos() - first.nanos()).isGreaterThanOrEqualTo(Duration.ofMillis(90).toNanos());
        } finally {
            later.shutdownNow();
        }
    }

    @Test
    void awaitCountCountsFromTheStartAndSaysHowManyItGot() {
        try (Recorder<Object> rec = Recorder.of(sink.asFlux())) {
            sink.tryEmitNext(1);
            sink.tryEmitNext(2);
            rec.awaitCount(2, Integer.class::isInstance, WAIT);
            assertThat(rec.count(Integer.class::isInstance)).isEqualTo(2);
            assertThatThrownBy(() -> rec.awaitCount(3, Integer.class::isInstance, SHORT))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("fewer than 3 matched within 50 ms; got 2");
        }
    }

    @Test
    void aFailedStreamIsShownInTheFailureMessage() {
        try (Recorder<Object> rec = Recorder.of(sink.asFlux())) {
            sink.tryEmitError(new IllegalStateException("boom"));
            assertThatThrownBy(() -> rec.await(String.class, SHORT)).hasMessageContaining("stream failed").hasMessageContaining("boom");
        }
    }
}
