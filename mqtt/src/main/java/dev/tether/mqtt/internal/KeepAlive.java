package dev.tether.mqtt.internal;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The MQTT keepalive of one connection (MQTT 5 §3.1.2.10): a PINGREQ when the client has written nothing
 * for half the keepalive, or read nothing for a whole keepalive; the connection is dead when no PINGRESP
 * arrives within the ping timeout.
 *
 * <p>While the client pauses reading (its subscribers' buffers are full), a PINGRESP cannot be read, so the
 * deadline waits until reading resumes; PINGREQs still go out so the broker sees the client alive.
 *
 * <p>Timers run on the attempt's scheduler (virtual time in tests) and hop to {@code loop}, or, when that scheduler is
 * one of the default timers ({@link #defaultTimers}) and {@code loop} can schedule (the channel's event loop), on the loop
 * itself: one task of the loop per connection instead of a periodic task of the scheduler, its adapter and a hop per
 * tick. The state is touched on {@code loop} only, except {@link #wrote()} and {@link #read()}, which any thread may
 * call.
 */
final class KeepAlive implements Runnable {

    /** What the keepalive acts on. */
    interface Link {
        /** Writes a PINGREQ. */
        void sendPing();

        /** No PINGRESP came in time: the connection is dead. */
        void dead(Duration pingTimeout);

        /** @return whether reading is paused by the client */
        boolean readingPaused();
    }

    private final Scheduler scheduler;
    private final Executor loop;
    private final Duration keepAlive;
    private final Duration pingTimeout;
    private final Link link;
    private final long tickNanos;
    private volatile boolean wrote;
    private volatile boolean read;
    private int ticksWithoutRead;
    private boolean pingOutstanding;
    private boolean deadlineDeferred;
    private boolean stopped;
    private @Nullable Disposable ticker;
    /** The ticker when it runs on the loop (see the class comment). */
    private @Nullable ScheduledFuture<?> loopTicker;
    private @Nullable Disposable deadline;

    KeepAlive(Scheduler scheduler, Executor loop, Duration keepAlive, Duration pingTimeout, Link link) {
        this.scheduler = scheduler;
        this.loop = loop;
        this.keepAlive = keepAlive;
        this.pingTimeout = pingTimeout;
        this.link = link;
        this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(100), keepAlive.toNanos() / 2);
    }

    /** Starts ticking; a zero keepalive disables it. */
    void start() {
        if (keepAlive.isZero()) {
            return;
        }
        ScheduledExecutorService onLoop = timersOnLoop();
        if (onLoop != null) {
            loopTicker = onLoop.scheduleAtFixedRate(this, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
            return;
        }
        ticker = scheduler.schedulePeriodically(() -> loop.execute(this), tickNanos, tickNanos, TimeUnit.NANOSECONDS);
    }

    /** @return the loop, when the timers run on it (see the class comment), else null */
    private @Nullable ScheduledExecutorService timersOnLoop() {
        return defaultTimers(scheduler) && loop instanceof ScheduledExecutorService ses ? ses : null;
    }

    /**
     * @param scheduler an attempt's scheduler
     * @return whether it is one of the default timers (the client's event loop, or {@link Schedulers#parallel()}),
     *     not a scheduler of the user's such as virtual time, so protocol timers may run on the channel's loop
     */
    static boolean defaultTimers(Scheduler scheduler) {
        return scheduler == Schedulers.parallel() || scheduler instanceof EventLoopScheduler;
    }

    /** One tick, on the loop: use {@link #start()}, not this. */
    @Override
    public void run() {
        tick();
    }

    /** Something was written. */
    void wrote() {
        wrote = true;
    }

    /** Something was read. */
    void read() {
        read = true;
    }

    /** A PINGRESP arrived. */
    void pingResponse() {
        pingOutstanding = false;
        deadlineDeferred = false;
        cancel(deadline);
        deadline = null;
    }

    /** Reading resumed after a pause: a deadline that came meanwhile starts again. */
    void readingResumed() {
        if (deadlineDeferred && !stopped) {
            deadlineDeferred = false;
            armDeadline();
        }
    }

    /** Stops every timer. */
    void stop() {
        stopped = true;
        cancelTicker();
        cancel(deadline);
    }

    private void cancelTicker() {
        cancel(ticker);
        ScheduledFuture<?> f = loopTicker;
        if (f != null) {
            f.cancel(false);
        }
    }

    /** @return whether a PINGREQ waits for its PINGRESP */
    boolean pingOutstanding() {
        return pingOutstanding;
    }

    private void tick() {
        if (stopped) {
            return;
        }
        boolean wroteSince = wrote;
        wrote = false;
        if (read) {
            read = false;
            ticksWithoutRead = 0;
        } else {
            ticksWithoutRead++;
        }
        boolean readIdle = (long) ticksWithoutRead * tickNanos >= keepAlive.toNanos();
        if (pingOutstanding) {
            if (link.readingPaused() && !wroteSince) {
                link.sendPing(); // the broker must still hear from the client
            }
            return;
        }
        if (!wroteSince || readIdle) {
            pingOutstanding = true;
            link.sendPing();
            armDeadline();
        }
    }

    private void armDeadline() {
        cancel(deadline);
        ScheduledExecutorService onLoop = timersOnLoop();
        if (onLoop != null) {
            ScheduledFuture<?> f = onLoop.schedule(this::deadlinePassed, pingTimeout.toNanos(), TimeUnit.NANOSECONDS);
            deadline = () -> f.cancel(false);
            return;
        }
        deadline = scheduler.schedule(() -> loop.execute(this::deadlinePassed), pingTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void deadlinePassed() {
        if (!pingOutstanding || stopped) {
            return;
        }
        if (link.readingPaused()) {
            deadlineDeferred = true;
            return;
        }
        stopped = true;
        cancelTicker();
        link.dead(pingTimeout);
    }

    private static void cancel(@Nullable Disposable d) {
        if (d != null) {
            d.dispose();
        }
    }
}
