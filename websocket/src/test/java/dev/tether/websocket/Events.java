package dev.tether.websocket;

import dev.tether.core.LifecycleEvent;
import dev.tether.core.ResilientConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import reactor.core.Disposable;

/** Records a connection's lifecycle with arrival times, and waits for events. */
final class Events implements AutoCloseable {

    /** An event and when it arrived (System.nanoTime). */
    record Timed(LifecycleEvent event, long nanos) {
    }

    private final LinkedBlockingQueue<Timed> queue = new LinkedBlockingQueue<>();
    private final List<Timed> seen = new ArrayList<>();
    private final Disposable subscription;

    Events(ResilientConnection<?> conn) {
        subscription = conn.lifecycle().subscribe(e -> queue.add(new Timed(e, System.nanoTime())), e -> { });
    }

    /** Waits for the next event of the type that matches, keeping every event on the way. */
    <E extends LifecycleEvent> Timed await(Class<E> type, Predicate<E> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            Timed t = left <= 0 ? null : queue.poll(left, TimeUnit.NANOSECONDS);
            if (t == null) {
                throw new AssertionError("no " + type.getSimpleName() + " within " + timeout + "; events so far: " + describe());
            }
            seen.add(t);
            if (type.isInstance(t.event()) && match.test(type.cast(t.event()))) {
                return t;
            }
        }
    }

    <E extends LifecycleEvent> Timed await(Class<E> type, Duration timeout) throws InterruptedException {
        return await(type, e -> true, timeout);
    }

    <E extends LifecycleEvent> E awaitEvent(Class<E> type, Duration timeout) throws InterruptedException {
        return type.cast(await(type, timeout).event());
    }

    /** @return the events seen so far, as simple names with key fields, in order */
    List<String> names() {
        List<String> out = new ArrayList<>();
        for (Timed t : seen) {
            out.add(t.event().getClass().getSimpleName());
        }
        return out;
    }

    /** Drains what has arrived without waiting. */
    List<LifecycleEvent> drainArrived() {
        List<Timed> more = new ArrayList<>();
        queue.drainTo(more);
        seen.addAll(more);
        return more.stream().map(Timed::event).toList();
    }

    String describe() {
        drainArrived();
        StringBuilder b = new StringBuilder();
        for (Timed t : seen.subList(Math.max(0, seen.size() - 30), seen.size())) {
            b.append("\n  ").append(t.event());
        }
        return b.toString();
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
