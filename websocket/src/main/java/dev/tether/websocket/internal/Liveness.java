package dev.tether.websocket.internal;

import dev.tether.websocket.Heartbeat;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

/**
 * Is the peer still there? Pings every interval and declares the peer dead when neither the pong nor
 * any other frame arrives within the pong timeout (any inbound frame counts as life); measures the
 * round trip of answered pings; and, with a watchdog period, reports a peer whose pongs flow but whose
 * application has sent nothing for that long. While reading is paused (the application does not keep
 * up) no verdict is passed: the peer's frames cannot be seen.
 *
 * <p>Without Netty: pings go out through {@link Probe}. Timers run on the Reactor {@link Scheduler}
 * and hop onto the session's loop; every method is called on that loop.
 */
final class Liveness {

    /** What liveness asks of the session. Called on the loop. */
    interface Probe {
        /** @param id the ping's payload, 8 bytes big-endian on the wire */
        void sendPing(long id);

        /** @param reason no pong and no other frame within the pong timeout */
        void dead(String reason);

        /** @param reason no application message within the watchdog period */
        void idle(String reason);

        /** @return whether reading from the socket is paused (no verdict then) */
        boolean readingPaused();
    }

    private final Heartbeat heartbeat;
    private final @Nullable Duration watchdog;
    private final Scheduler scheduler;
    private final Executor loop;
    private final Probe probe;
    private volatile @Nullable Duration lastRtt;
    private @Nullable Disposable pingTask;
    private @Nullable Disposable pongTimer;
    private @Nullable Disposable watchdogTimer;
    private boolean stopped;
    private long inboundFrames;
    private long lastAppMessageNanos;
    private long pingId;
    private long pingSentNanoTime;

    /**
     * @param heartbeat ping interval and pong timeout
     * @param watchdog  the longest time without an application message, or null for none
     * @param scheduler timers and clock
     * @param loop      the session's loop
     * @param probe     the session
     */
    Liveness(Heartbeat heartbeat, @Nullable Duration watchdog, Scheduler scheduler, Executor loop, Probe probe) {
        this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
        this.watchdog = watchdog;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    /** Starts pinging and the watchdog. */
    void start() {
        lastAppMessageNanos = nanos();
        if (heartbeat.enabled()) {
            long every = heartbeat.interval().toNanos();
            pingTask = scheduler.schedulePeriodically(() -> loop.execute(this::pingTick), every, every, TimeUnit.NANOSECONDS);
        }
        if (watchdog != null) {
            scheduleWatchdog(watchdog.toNanos());
        }
    }

    /** Any frame from the peer: it is alive. */
    void onInboundFrame() {
        inboundFrames++;
        if (pongTimer != null) {
            pongTimer.dispose();
            pongTimer = null;
        }
    }

    /**
     * A pong: when it answers our latest ping, the round trip is measured.
     *
     * @param id its payload read as our ping id, or null when it is not 8 bytes long
     */
    void onPong(@Nullable Long id) {
        if (id != null && id == pingId && pingSentNanoTime != 0) {
            lastRtt = Duration.ofNanos(System.nanoTime() - pingSentNanoTime);
            pingSentNanoTime = 0;
        }
    }

    /** An application message arrived (for the watchdog; without one, nothing to note). */
    void onAppMessage() {
        if (watchdog != null) {
            lastAppMessageNanos = nanos();
        }
    }

    /** @return the round trip of the latest answered ping (readable from any thread) */
    Optional<Duration> lastRoundTrip() {
        return Optional.ofNullable(lastRtt);
    }

    /** Stops every timer; no verdict after this. */
    void stop() {
        stopped = true;
        cancel(pingTask);
        cancel(pongTimer);
        cancel(watchdogTimer);
        pingTask = pongTimer = watchdogTimer = null;
    }

    private void pingTick() {
        if (stopped || pongTimer != null || probe.readingPaused()) {
            return;
        }
        long id = ++pingId;
        long framesAtPing = inboundFrames;
        pingSentNanoTime = System.nanoTime();
        probe.sendPing(id);
        pongTimer = schedule(heartbeat.pongTimeout(), () -> {
            pongTimer = null;
            if (!stopped && inboundFrames == framesAtPing && !probe.readingPaused()) {
                stop();
                probe.dead("no pong within " + heartbeat.pongTimeout().toMillis() + " ms");
            }
        });
    }

    private void scheduleWatchdog(long delayNanos) {
        watchdogTimer = schedule(Duration.ofNanos(delayNanos), () -> {
            Duration period = Objects.requireNonNull(watchdog);
            if (stopped) {
                return;
            }
            long idle = nanos() - lastAppMessageNanos;
            if (probe.readingPaused()) {
                scheduleWatchdog(period.toNanos());
            } else if (idle >= period.toNanos()) {
                stop();
                probe.idle("no application message within " + period.toMillis() + " ms");
            } else {
                scheduleWatchdog(period.toNanos() - idle);
            }
        });
    }

    private Disposable schedule(Duration delay, Runnable task) {
        return scheduler.schedule(() -> loop.execute(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private long nanos() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }
}
