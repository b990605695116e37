package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SteadyWarmupTest {

    private static final long MS = 1_000_000L;

    @Test
    void endsOnceThreeWindowsAgreeAfterTheMinimum() {
        SteadyWarmup w = new SteadyWarmup(Duration.ofMillis(500), Duration.ofSeconds(5), 0, 0);
        long count = 0;
        long t = 0;
        // Ramp-up: 100, 200, 400 per window, then steady at 1000 per window.
        int[] perWindow = {100, 200, 400, 1000, 1000, 1000, 1000};
        int ended = -1;
        for (int i = 0; i < perWindow.length; i++) {
            t += 200 * MS;
            count += perWindow[i];
            if (w.done(t, count)) {
                ended = i;
                break;
            }
        }
        // Windows 4, 5 and 6 (indices 3 to 5) agree: done at the end of the sixth.
        assertThat(ended).isEqualTo(5);
        assertThat(w.steady()).isTrue();
        assertThat(w.tookMillis()).isEqualTo(1200.0);
    }

    @Test
    void aRateThatKeepsMovingEndsAtTheMaximumNotSteady() {
        SteadyWarmup w = new SteadyWarmup(Duration.ofMillis(200), Duration.ofMillis(1000), 0, 0);
        long count = 0;
        long t = 0;
        boolean done = false;
        for (int i = 1; i <= 10 && !done; i++) {
            t += 200 * MS;
            count += i * 100L;
            done = w.done(t, count);
        }
        assertThat(done).isTrue();
        assertThat(w.steady()).isFalse();
        assertThat(w.tookMillis()).isEqualTo(1000.0);
        assertThat(w.done(t + 1, count)).isTrue();
    }

    @Test
    void neverEndsBeforeTheMinimumEvenWhenSteady() {
        SteadyWarmup w = new SteadyWarmup(Duration.ofMillis(1000), Duration.ofSeconds(5), 0, 0);
        long count = 0;
        for (int i = 1; i <= 4; i++) {
            count += 500;
            assertThat(w.done(i * 200 * MS, count)).isFalse();
        }
        assertThat(w.done(1000 * MS, count + 500)).isTrue();
        assertThat(w.steady()).isTrue();
    }

    @Test
    void refusesAMinimumAboveTheMaximum() {
        assertThatThrownBy(() -> new SteadyWarmup(Duration.ofSeconds(2), Duration.ofSeconds(1), 0, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not exceed");
    }
}
