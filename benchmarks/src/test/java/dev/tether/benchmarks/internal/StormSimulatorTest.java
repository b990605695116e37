package dev.tether.benchmarks.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tether.core.Jitter;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.Verdict;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class StormSimulatorTest {

    private static final Duration HORIZON = Duration.ofHours(10);
    private static final ReconnectPolicy DEFAULTS = ReconnectPolicy.defaults();

    private static StormSimulator.Backoff tether(Jitter jitter) {
        return StormSimulator.tether(jitter.name(), DEFAULTS.toBuilder().jitter(jitter).build());
    }

    @Test
    void theRealStormsModelWithoutJitterComesBackOnTheExactSchedule() {
        // 100 ms doubling: attempts at 100, 300 and 700 ms fall in the 1 s outage, the one at 1500 ms gets in.
        ReconnectPolicy policy = StormWorkload.policy(Jitter.NONE);
        StormSimulator.Result r = StormSimulator.run(50, StormSimulator.Broker.outage(Duration.ofSeconds(1),
                        StormSimulator.Latency.fixed(Duration.ZERO), StormSimulator.Latency.fixed(Duration.ZERO)),
                StormSimulator.tether("none", policy), 1, HORIZON);
        assertThat(r.back()).isEqualTo(50);
        assertThat(r.allBackMicros()).isEqualTo(1_500_000);
        assertThat(r.attemptsPerClient()).isEqualTo(4.0);
        assertThat(r.maxAttempts()).isEqualTo(4);
        // Without jitter every client is in the same 100 ms bucket, every time.
        assertThat(r.peakPer100ms()).isEqualTo(50);
    }

    @Test
    void withoutJitterTheClientsStayInLockStepAndFullJitterSpreadsThem() {
        StormSimulator.Broker broker = StormSimulator.Broker.limited(100, StormSimulator.Refusal.CONNECTION_REFUSED);
        StormSimulator.Result none = StormSimulator.run(2000, broker, tether(Jitter.NONE), 7, HORIZON);
        StormSimulator.Result full = StormSimulator.run(2000, broker, tether(Jitter.FULL), 7, HORIZON);
        // Every attempt of a client without jitter lands in one bucket with everyone else's; the bucket admits 10
        // per wave, so lock step does not end within the attempt budget.
        assertThat(none.peakPer100ms()).isEqualTo(2000);
        assertThat(none.back()).isLessThan(2000);
        // Full jitter: the first delays spread over [0, 200 ms), later ones over ever wider ranges.
        assertThat(full.peakPer100ms()).isLessThan(1500);
        assertThat(full.back()).isEqualTo(2000);
        assertThat(full.attemptsPerClient()).isLessThan(none.attemptsPerClient());
    }

    @Test
    void everyJitteredPolicyGetsEveryClientBackAndNoneFasterThanTheBrokersRate() {
        for (StormSimulator.Refusal refusal : StormSimulator.Refusal.values()) {
            for (StormSimulator.Backoff b : StormSimulation.backoffs()) {
                if (b.name().equals("none")) {
                    continue;
                }
                StormSimulator.Result r = StormSimulator.run(3000, StormSimulator.Broker.limited(200, refusal), b, 3, HORIZON);
                assertThat(r.back()).as(b.name() + " " + refusal).isEqualTo(3000);
                // The bucket holds 20 at the start; the other 2,980 need 2,980 / 200 s at least.
                assertThat(r.allBackMicros()).as(b.name() + " " + refusal).isGreaterThanOrEqualTo(14_900_000L);
                assertThat(r.overIdeal()).as(b.name() + " " + refusal).isGreaterThanOrEqualTo(0.99);
                assertThat(r.attempts()).isGreaterThanOrEqualTo(3000);
            }
        }
    }

    @Test
    void tethersClientsWaitTheVerdictsMinimumAndHiveMqsDoNot() {
        SplittableRandom random = new SplittableRandom(1);
        Verdict rate = StormSimulator.Refusal.RATE_EXCEEDED_0X9F.verdict();
        Verdict busy = StormSimulator.Refusal.SERVER_BUSY_0X89.verdict();
        assertThat(rate.minimumDelay()).isEqualTo(Duration.ofSeconds(5));
        assertThat(busy.minimumDelay()).isEqualTo(Duration.ofSeconds(1));
        assertThat(StormSimulator.Refusal.CONNECTION_REFUSED.verdict().minimumDelay()).isZero();
        for (int failures = 1; failures < 5; failures++) {
            assertThat(tether(Jitter.FULL).delayMicros(failures, 0, rate, random)).isGreaterThanOrEqualTo(5_000_000);
            assertThat(tether(Jitter.FULL).delayMicros(failures, 0, busy, random)).isGreaterThanOrEqualTo(1_000_000);
            assertThat(StormSimulator.decorrelated(Duration.ofMillis(200), Duration.ofSeconds(30))
                    .delayMicros(failures, 200_000, rate, random)).isGreaterThanOrEqualTo(5_000_000);
        }
        // HiveMQ: 1 s, 2 s, 4 s ... each within ±25 %, whatever the reason code.
        StormSimulator.Backoff hivemq = StormSimulator.hivemqDefault();
        assertThat(hivemq.delayMicros(1, 0, rate, random)).isBetween(750_000L, 1_250_000L);
        assertThat(hivemq.delayMicros(3, 0, rate, random)).isBetween(3_000_000L, 5_000_000L);
        assertThat(hivemq.delayMicros(20, 0, rate, random)).isBetween(90_000_000L, 150_000_000L);
    }

    @Test
    void aRateExceededRefusalMakesTethersClientsComeBackNoEarlierThanFiveSeconds() {
        // One token per second and 0x9F: the clients refused at about 0.2 s cannot try again before 5.2 s.
        StormSimulator.Broker broker = new StormSimulator.Broker(1, 1, Duration.ZERO,
                StormSimulator.Refusal.RATE_EXCEEDED_0X9F, StormSimulator.Latency.fixed(Duration.ZERO),
                StormSimulator.Latency.fixed(Duration.ZERO));
        ReconnectPolicy fast = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(200)).multiplier(2)
                .jitter(Jitter.NONE).build();
        StormSimulator.Result r = StormSimulator.run(2, broker, StormSimulator.tether("fast", fast), 1, HORIZON);
        assertThat(r.allBackMicros()).isEqualTo(5_200_000L);
        assertThat(r.attempts()).isEqualTo(3);
    }

    @Test
    void theSameSeedGivesTheSameStorm() {
        StormSimulator.Broker broker = StormSimulator.Broker.limited(500, StormSimulator.Refusal.RATE_EXCEEDED_0X9F);
        StormSimulator.Result a = StormSimulator.run(5000, broker, tether(Jitter.FULL), 11, HORIZON);
        StormSimulator.Result b = StormSimulator.run(5000, broker, tether(Jitter.FULL), 11, HORIZON);
        assertThat(a).isEqualTo(b);
    }

    @Test
    void clientsNotBackByTheHorizonAreCounted() {
        StormSimulator.Result r = StormSimulator.run(1000, StormSimulator.Broker.limited(10,
                StormSimulator.Refusal.CONNECTION_REFUSED), tether(Jitter.FULL), 1, Duration.ofSeconds(10));
        assertThat(r.back()).isLessThan(1000);
        assertThat(r.allBackMicros()).isEqualTo(10_000_000L);
    }

    @Test
    void aStormInLockStepStopsAtTheAttemptBudget() {
        // Without jitter 20,000 clients against 10 per second come back 1 per wave of 30 s: far too many attempts.
        StormSimulator.Result r = StormSimulator.run(20_000, StormSimulator.Broker.limited(10,
                StormSimulator.Refusal.CONNECTION_REFUSED), tether(Jitter.NONE), 1, HORIZON);
        assertThat(r.attempts()).isEqualTo(20_000L * StormSimulator.ATTEMPT_BUDGET_PER_CLIENT);
        assertThat(r.back()).isLessThan(20_000);
        assertThat(r.allBackMicros()).isLessThan(HORIZON.toNanos() / 1000);
    }

    @Test
    void empiricalLatencyDrawsBetweenTheMeasuredQuantiles() {
        StormSimulator.Latency l = StormSimulator.Latency.empirical(new double[]{1, 2, 3, 4, 100});
        SplittableRandom random = new SplittableRandom(5);
        int above4 = 0;
        for (int i = 0; i < 10_000; i++) {
            long micros = l.drawMicros(random);
            assertThat(micros).isBetween(1_000L, 100_000L);
            above4 += micros > 4_000 ? 1 : 0;
        }
        // The last quarter of the distribution lies between 4 and 100 ms.
        assertThat(above4).isBetween(2_200, 2_800);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> StormSimulator.run(0, StormSimulator.Broker.limited(10,
                StormSimulator.Refusal.CONNECTION_REFUSED), tether(Jitter.FULL), 1, HORIZON))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clients must be at least 1");
    }
}
