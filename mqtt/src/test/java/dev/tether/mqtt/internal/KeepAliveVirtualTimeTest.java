package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The keepalive on virtual time: timers run on a {@link VirtualTimeScheduler}, the loop is a direct executor.
 * Every PINGREQ counts as a write, as on a real connection.
 */
class KeepAliveVirtualTimeTest {

    private static final Duration KEEP_ALIVE = Duration.ofSeconds(10);
    private static final Duration PING_TIMEOUT = Duration.ofSeconds(4);
    private static final Executor DIRECT = Runnable::run;

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<Long> pings = new ArrayList<>();
    private final List<Long> dead = new ArrayList<>();
    private final List<Duration> deadTimeouts = new ArrayList<>();
    private boolean readingPaused;
    private KeepAlive keepAlive;

    @AfterEach
    void disposeScheduler() {
        time.dispose();
    }

    private KeepAlive start(Duration interval, Duration pingTimeout) {
        keepAlive = new KeepAlive(time, DIRECT, interval, pingTimeout, new KeepAlive.Link() {
            @Override
            public void sendPing() {
                pings.add(time.now(java.util.concurrent.TimeUnit.MILLISECONDS));
                keepAlive.wrote();
            }

            @Override
            public void dead(Duration timeout) {
                dead.add(time.now(java.util.concurrent.TimeUnit.MILLISECONDS));
                deadTimeouts.add(timeout);
            }

            @Override
            public boolean readingPaused() {
                return readingPaused;
            }
        });
        keepAlive.start();
        return keepAlive;
    }

    private void advanceTo(long millis) {
        time.advanceTimeTo(java.time.Instant.ofEpochMilli(millis));
    }

    /** The broker answers: the PINGRESP is read. */
    private void pingResponse() {
        keepAlive.read();
        keepAlive.pingResponse();
    }

    @Test
    void pingsAfterHalfTheKeepAliveWithoutWrites() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        k.read(); // something was read: only the write side is idle

        advanceTo(4_999);
        assertThat(pings).isEmpty();

        advanceTo(5_000);
        assertThat(pings).containsExactly(5_000L);
        assertThat(k.pingOutstanding()).isTrue();
    }

    @Test
    void noPingWhileWritingAndReading() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        for (long t = 1_000; t <= 60_000; t += 1_000) {
            k.wrote();
            k.read();
            advanceTo(t);
        }
        assertThat(pings).isEmpty();
        assertThat(dead).isEmpty();
    }

    @Test
    void pingsWhenNothingWasReadForAWholeKeepAlive() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        k.wrote();
        advanceTo(5_000); // half the keepalive without reads, but it wrote
        assertThat(pings).isEmpty();

        k.wrote();
        advanceTo(9_999);
        assertThat(pings).isEmpty();

        advanceTo(10_000); // a whole keepalive without reads
        assertThat(pings).containsExactly(10_000L);
        assertThat(k.pingOutstanding()).isTrue();
    }

    @Test
    void deadAfterThePingTimeoutWithoutPingResponse() {
        start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        assertThat(pings).containsExactly(5_000L);

        advanceTo(8_999);
        assertThat(dead).isEmpty();

        advanceTo(9_000);
        assertThat(dead).containsExactly(9_000L);
        assertThat(deadTimeouts).containsExactly(PING_TIMEOUT);

        advanceTo(120_000); // nothing more once dead
        assertThat(pings).containsExactly(5_000L);
        assertThat(dead).hasSize(1);
    }

    @Test
    void pingResponseCancelsTheDeadline() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        assertThat(pings).containsExactly(5_000L);

        advanceTo(6_000);
        pingResponse();
        assertThat(k.pingOutstanding()).isFalse();

        // Busy connection: no further ping, so only the cancelled deadline (due at 9 s) could fire.
        for (long t = 7_000; t <= 30_000; t += 1_000) {
            k.wrote();
            k.read();
            advanceTo(t);
        }
        assertThat(dead).isEmpty();
        assertThat(pings).containsExactly(5_000L);
    }

    @Test
    void eachPingGetsItsOwnDeadline() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        advanceTo(6_000);
        pingResponse();

        advanceTo(10_000); // nothing written since the PINGREQ at 5 s was counted: the tick at 10 s saw it
        advanceTo(15_000); // nothing written for half the keepalive: ping again
        assertThat(pings).containsExactly(5_000L, 15_000L);
        assertThat(k.pingOutstanding()).isTrue();

        advanceTo(18_999);
        assertThat(dead).isEmpty();
        advanceTo(19_000);
        assertThat(dead).containsExactly(19_000L);
    }

    @Test
    void whileReadingIsPausedTheDeadlineWaitsAndPingsKeepGoingOut() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        assertThat(pings).containsExactly(5_000L);

        readingPaused = true; // a subscriber's buffer is full: the PINGRESP cannot be read
        advanceTo(60_000);
        assertThat(dead).as("the deadline waits while reading is paused").isEmpty();
        // A PINGREQ on every tick that had no other write (the previous PINGREQ counts as one).
        assertThat(pings).containsExactly(5_000L, 15_000L, 25_000L, 35_000L, 45_000L, 55_000L);
        assertThat(k.pingOutstanding()).isTrue();

        advanceTo(61_000);
        readingPaused = false;
        k.readingResumed();

        advanceTo(64_999);
        assertThat(dead).as("a fresh ping timeout starts when reading resumes").isEmpty();
        advanceTo(65_000);
        assertThat(dead).containsExactly(65_000L);
        assertThat(pings).containsExactly(5_000L, 15_000L, 25_000L, 35_000L, 45_000L, 55_000L);
    }

    @Test
    void pingResponseAfterReadingResumedKeepsTheConnectionAlive() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        readingPaused = true;
        advanceTo(30_000);
        readingPaused = false;
        k.readingResumed();
        advanceTo(31_000);
        pingResponse();

        for (long t = 32_000; t <= 60_000; t += 1_000) {
            k.wrote();
            k.read();
            advanceTo(t);
        }
        assertThat(dead).isEmpty();
        assertThat(k.pingOutstanding()).isFalse();
    }

    @Test
    void readingResumedWithoutADeferredDeadlineChangesNothing() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        k.readingResumed();
        advanceTo(5_000);
        readingPaused = true;
        advanceTo(6_000);
        readingPaused = false;
        k.readingResumed(); // the deadline had not come yet: it stays at 9 s

        advanceTo(9_000);
        assertThat(dead).containsExactly(9_000L);
    }

    @Test
    void zeroKeepAliveDisablesIt() {
        KeepAlive k = start(Duration.ZERO, PING_TIMEOUT);
        advanceTo(3_600_000);
        assertThat(pings).isEmpty();
        assertThat(dead).isEmpty();
        assertThat(k.pingOutstanding()).isFalse();
    }

    @Test
    void stopCancelsTheTickerAndTheDeadline() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        assertThat(pings).containsExactly(5_000L);

        k.stop();
        advanceTo(3_600_000);
        assertThat(pings).containsExactly(5_000L);
        assertThat(dead).isEmpty();
    }

    @Test
    void stopCancelsADeferredDeadline() {
        KeepAlive k = start(KEEP_ALIVE, PING_TIMEOUT);
        advanceTo(5_000);
        readingPaused = true;
        advanceTo(20_000);
        int sent = pings.size();

        k.stop();
        readingPaused = false;
        k.readingResumed();
        advanceTo(3_600_000);
        assertThat(dead).isEmpty();
        assertThat(pings).hasSize(sent);
    }

    @Test
    void shortKeepAliveTicksEveryHundredMillisecondsAtLeast() {
        start(Duration.ofMillis(100), Duration.ofMillis(50));
        advanceTo(99);
        assertThat(pings).isEmpty();
        advanceTo(100);
        assertThat(pings).containsExactly(100L);
        advanceTo(150);
        assertThat(dead).containsExactly(150L);
    }
}
