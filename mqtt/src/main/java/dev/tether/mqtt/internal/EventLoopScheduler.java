package dev.tether.mqtt.internal;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.Exceptions;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpResources;

/**
 * The default timers of an {@code MqttClient} that was given no scheduler: a Reactor {@link Scheduler} on one of
 * Reactor Netty's client event loops, the one the client's TCP and TLS channels are registered on. The engine's
 * backoff, attempt and close timers then fire on the thread that runs the connection: a reconnect goes from the
 * backoff timer through the attempt to the new channel's registration and connect without waking another thread
 * (with {@link Schedulers#parallel()} the timer's thread handed the channel to the loop, one wake-up of an idle
 * thread per reconnect; docs/benchmarks.md has what that cost). One scheduler per loop, shared by every client on
 * it. It never shuts its loop down (the loop belongs to Reactor Netty's shared resources); if those are disposed,
 * tasks go to {@link Schedulers#parallel()} instead, and the connector picks a live loop.
 *
 * <p><b>Internal:</b> not part of the API, may change without notice.
 */
public final class EventLoopScheduler implements Scheduler {

    private static final Logger log = LoggerFactory.getLogger(EventLoopScheduler.class);
    private static final Map<EventLoop, EventLoopScheduler> ON_LOOP = new ConcurrentHashMap<>();

    private final EventLoop loop;

    private EventLoopScheduler(EventLoop loop) {
        this.loop = loop;
    }

    /** @return the scheduler of the next client event loop of Reactor Netty's shared TCP resources */
    public static EventLoopScheduler next() {
        EventLoop loop = clientLoops().next();
        ON_LOOP.keySet().removeIf(EventLoop::isShuttingDown);
        return on(loop);
    }

    /** @return the scheduler of one loop (the same object for the same loop) */
    static EventLoopScheduler on(EventLoop loop) {
        return ON_LOOP.computeIfAbsent(loop, EventLoopScheduler::new);
    }

    /** @return Reactor Netty's shared client event loops (the ones every TCP and TLS channel of the client uses) */
    static EventLoopGroup clientLoops() {
        return TcpResources.get().onClient(LoopResources.DEFAULT_NATIVE);
    }

    /** @return the loop, or null once it is shutting down (the shared resources were disposed) */
    @org.jspecify.annotations.Nullable EventLoop liveLoop() {
        return loop.isShuttingDown() ? null : loop;
    }

    @Override
    public Disposable schedule(Runnable task) {
        if (loop.isShuttingDown()) {
            return Schedulers.parallel().schedule(task);
        }
        return new Task(loop.submit(guarded(task)));
    }

    @Override
    public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
        if (loop.isShuttingDown()) {
            return Schedulers.parallel().schedule(task, delay, unit);
        }
        return new Task(loop.schedule(guarded(task), delay, unit));
    }

    @Override
    public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
        if (loop.isShuttingDown()) {
            return Schedulers.parallel().schedulePeriodically(task, initialDelay, period, unit);
        }
        return new Task(loop.scheduleAtFixedRate(guarded(task), initialDelay, period, unit));
    }

    @Override
    public Worker createWorker() {
        return new LoopWorker();
    }

    /** Nothing to release: the loop is Reactor Netty's, and it is never shut down from here. */
    @Override
    public void dispose() {
        // the shared loop outlives every client
    }

    @Override
    public String toString() {
        return "EventLoopScheduler{" + loop + "}";
    }

    /** A task that throws is reported as Reactor's schedulers report it, and the loop goes on. */
    private static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                Exceptions.throwIfJvmFatal(e);
                log.error("a scheduled task failed on the MQTT client's event loop", e);
            }
        };
    }

    /** A scheduled task: disposing it cancels it (a periodic one stops). */
    private static final class Task implements Disposable {
        private final Future<?> future;

        Task(Future<?> future) {
            this.future = future;
        }

        @Override
        public void dispose() {
            future.cancel(false);
        }

        @Override
        public boolean isDisposed() {
            return future.isDone();
        }
    }

    /** Tasks on the loop (so one at a time, in order), all cancelled when the worker is disposed. */
    private final class LoopWorker implements Worker {
        private final Disposable.Composite tasks = Disposables.composite();

        @Override
        public Disposable schedule(Runnable task) {
            return track(task, false, t -> EventLoopScheduler.this.schedule(t));
        }

        @Override
        public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
            return track(task, false, t -> EventLoopScheduler.this.schedule(t, delay, unit));
        }

        @Override
        public Disposable schedulePeriodically(Runnable task, long initialDelay, long period, TimeUnit unit) {
            return track(task, true, t -> EventLoopScheduler.this.schedulePeriodically(t, initialDelay, period, unit));
        }

        private Disposable track(Runnable task, boolean periodic, java.util.function.Function<Runnable, Disposable> submit) {
            WorkerTask wt = new WorkerTask(task, periodic);
            if (!tasks.add(wt)) {
                throw Exceptions.failWithRejected();
            }
            wt.submitted(submit.apply(wt));
            return wt;
        }

        @Override
        public void dispose() {
            tasks.dispose();
        }

        @Override
        public boolean isDisposed() {
            return tasks.isDisposed();
        }

        /** One task of the worker: runs unless disposed, and leaves the worker's set when done or disposed. */
        private final class WorkerTask implements Runnable, Disposable {
            private final Runnable task;
            private final boolean periodic;
            private volatile @org.jspecify.annotations.Nullable Disposable submitted;
            private volatile boolean disposed;

            WorkerTask(Runnable task, boolean periodic) {
                this.task = task;
                this.periodic = periodic;
            }

            void submitted(Disposable d) {
                submitted = d;
                if (disposed) {
                    d.dispose();
                }
            }

            @Override
            public void run() {
                if (disposed) {
                    return;
                }
                try {
                    task.run();
                } finally {
                    if (!periodic) {
                        // A one-shot task is done: it leaves the set (a periodic one stays until disposed).
                        tasks.remove(this);
                    }
                }
            }

            @Override
            public void dispose() {
                disposed = true;
                Disposable d = submitted;
                if (d != null) {
                    d.dispose();
                }
                tasks.remove(this);
            }

            @Override
            public boolean isDisposed() {
                return disposed;
            }
        }
    }
}
