package dev.tether.websocket.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.websocket.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Ping, pong deadline, round trip and watchdog, in virtual time, without Netty. */
class LivenessTest {

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final List<String> calls = new ArrayList<>();
    private boolean paused;

    @AfterEach
    void dispose() {
        time.dispose();
    }

    private Liveness liveness(Heartbeat hb, Duration watchdog) {
        return new Liveness(hb, watchdog, time, Runnable::run, new Liveness.Probe() {
            @Override
            public void sendPing(long id) {
                calls.add("ping " + id);
            }

            @Override
            public void dead(String reason) {
                calls.add("dead: " + reason);
            }

            @Override
            public void idle(String reason) {
                calls.add("idle: " + reason);
            }

            @Override
            public boolean readingPaused() {
                return paused;
            }
        });
    }

    @Test
    void anUnansweredPingIsDeathAtThePongTimeoutButAnyFrameIsLife() {
        Liveness l = liveness(Heartbeat.of(Duration.ofSeconds(10), Duration.ofSeconds(5)), null);
        l.start();
        time.advanceTimeBy(Duration.ofSeconds(10));
        assertThat(calls).containsExactly("ping 1");
        time.advanceTimeBy(Duration.ofSeconds(4));
        l.onInboundFrame();
        time.advanceTimeBy(Duration.ofSeconds(6));
        assertThat(calls).containsExactly("ping 1", "ping 2");
        time.advanceTimeBy(Duration.ofMillis(4999));
        assertThat(calls).hasSize(2);
        time.advanceTimeBy(Duration.ofMillis(1));
        assertThat(calls).containsExactly("ping 1", "ping 2", "dead: no pong within 5000 ms");
        time.advanceTimeBy(Duration.ofSeconds(60));
        assertThat(calls).as("stopped after the verdict").hasSize(3);
    }

    @Test
    void theMatchingPongMeasuresTheRoundTrip() {
        Liveness l = liveness(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), null);
        l.start();
        time.advanceTimeBy(Duration.ofSeconds(1));
        l.onPong(99L);
        assertThat(l.lastRoundTrip()).as("not our ping").isEmpty();
        l.onInboundFrame();
        l.onPong(1L);
        assertThat(l.lastRoundTrip()).isPresent();
        l.stop();
    }

    @Test
    void noPingAndNoVerdictWhileReadingIsPaused() {
        Liveness l = liveness(Heartbeat.of(Duration.ofSeconds(1), Duration.ofSeconds(1)), Duration.ofSeconds(3));
        l.start();
        paused = true;
        time.advanceTimeBy(Duration.ofSeconds(30));
        assertThat(calls).isEmpty();
        paused = false;
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(calls).as("the heartbeat resumes with reading").containsExactly("ping 1");
        l.stop();
    }

    @Test
    void theWatchdogCountsFromTheLastApplicationMessage() {
        Liveness l = liveness(Heartbeat.disabled(), Duration.ofSeconds(30));
        l.start();
        time.advanceTimeBy(Duration.ofSeconds(20));
        l.onAppMessage();
        time.advanceTimeBy(Duration.ofSeconds(29));
        assertThat(calls).isEmpty();
        time.advanceTimeBy(Duration.ofSeconds(1));
        assertThat(calls).containsExactly("idle: no application message within 30000 ms");
    }
}
