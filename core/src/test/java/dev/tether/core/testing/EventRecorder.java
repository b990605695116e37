package dev.tether.core.testing;

import dev.tether.core.LifecycleEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Records a lifecycle stream for real-time tests and lets a test wait for the next event of a kind
 * (never sleeping: it blocks on the stream itself, with a timeout).
 */
public final class EventRecorder implements AutoCloseable {

    private final List<LifecycleEvent> all = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<LifecycleEvent> pending = new LinkedBlockingQueue<>();
    private final Disposable subscription;

    private EventRecorder(Publisher<LifecycleEvent> events) {
        this.subscription = Flux.from(events).subscribe(e -> {
            all.add(e);
            pending.add(e);
        }, e -> { });
    }

    /**
     * @param events the lifecycle to record
     * @return a recorder subscribed to it
     */
    public static EventRecorder record(Publisher<LifecycleEvent> events) {
        return new EventRecorder(events);
    }

    /**
     * Waits for the next event of a type, skipping others.
     *
     * @param type    the event type
     * @param timeout how long to wait
     * @param <T>     the event type
     * @return the event
     * @throws AssertionError if none arrives in time, listing what did arrive
     */
    public <T extends LifecycleEvent> T await(Class<T> type, Duration timeout) {
        return type.cast(await(type::isInstance, timeout, type.getSimpleName()));
    }

    /**
     * @param match   what to wait for
     * @param timeout how long to wait
     * @param what    a description for the failure message
     * @return the first matching event
     */
    public LifecycleEvent await(Predicate<LifecycleEvent> match, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                LifecycleEvent e = left <= 0 ? null : pending.poll(left, TimeUnit.NANOSECONDS);
                if (e == null) {
                    throw new AssertionError("no " + what + " within " + timeout.toMillis() + " ms; events so far: " + names());
                }
                if (match.test(e)) {
                    return e;
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, ie);
        }
    }

    /** @return every event so far */
    public List<LifecycleEvent> events() {
        return new ArrayList<>(all);
    }

    /** @return the simple type names of every event so far, in order */
    public List<String> names() {
        return all.stream().map(e -> e.getClass().getSimpleName()).toList();
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
