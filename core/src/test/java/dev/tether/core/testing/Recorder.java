package dev.tether.core.testing;

import dev.tether.core.LifecycleEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Records a stream for real-time tests (a connection's lifecycle, received messages), with the
 * arrival time of every item, and lets a test wait for items without ever sleeping: it blocks on the
 * stream itself, with a timeout.
 *
 * <p>Two ways to wait:
 * <ul>
 *   <li>{@code await…} looks at everything recorded since the start: it returns the first matching
 *       item so far, or waits for one to arrive.</li>
 *   <li>{@code next…} reads the stream in order: it returns the first matching item after the one the
 *       previous {@code next…} returned, skipping (but keeping) the items on the way. A sequence of
 *       {@code next} calls therefore proves an order.</li>
 * </ul>
 * Both fail with an {@link AssertionError} listing what was recorded. Errors of the stream are kept
 * for failure messages; the stream ending does not cut a wait short.
 *
 * @param <T> the item type
 */
public final class Recorder<T> implements AutoCloseable {

    /**
     * An item and when it arrived.
     *
     * @param item  the item
     * @param nanos its arrival time, {@link System#nanoTime()}
     * @param <T>   the item type
     */
    public record Timed<T>(T item, long nanos) {
    }

    private static final int DESCRIBED = 30;

    private final Object lock = new Object();
    private final List<Timed<T>> all = new ArrayList<>();
    private int cursor;
    private @Nullable Throwable failure;
    private final Disposable subscription;

    private Recorder(Publisher<? extends T> source) {
        this.subscription = Flux.<T>from(source).subscribe(this::add, this::fail);
    }

    /**
     * @param source the stream to record
     * @param <T>    the item type
     * @return a recorder subscribed to it
     */
    public static <T> Recorder<T> of(Publisher<? extends T> source) {
        return new Recorder<>(source);
    }

    /**
     * @param lifecycle a connection's lifecycle stream
     * @return a recorder subscribed to it
     */
    public static Recorder<LifecycleEvent> lifecycle(Publisher<? extends LifecycleEvent> lifecycle) {
        return new Recorder<>(lifecycle);
    }

    private void add(T item) {
        long now = System.nanoTime();
        synchronized (lock) {
            all.add(new Timed<>(item, now));
            lock.notifyAll();
        }
    }

    private void fail(Throwable error) {
        synchronized (lock) {
            failure = error;
            lock.notifyAll();
        }
    }

    // ---- waiting from the start

    /**
     * @param type    the class wanted
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the first item of that type recorded since the start
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> E await(Class<E> type, Duration timeout) {
        return type.cast(await(type::isInstance, timeout, type.getSimpleName()));
    }

    /**
     * @param type    the class wanted
     * @param match   what else it must satisfy
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the first item of that type matching, recorded since the start
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> E await(Class<E> type, Predicate<? super E> match, Duration timeout) {
        return type.cast(await(t -> type.isInstance(t) && match.test(type.cast(t)), timeout, "matching " + type.getSimpleName()));
    }

    /**
     * @param match   what to wait for
     * @param timeout how long to wait
     * @return the first matching item recorded since the start
     * @throws AssertionError if none arrives in time
     */
    public T await(Predicate<? super T> match, Duration timeout) {
        return await(match, timeout, "matching item");
    }

    /**
     * @param match   what to wait for
     * @param timeout how long to wait
     * @param what    a description for the failure message
     * @return the first matching item recorded since the start
     * @throws AssertionError if none arrives in time
     */
    public T await(Predicate<? super T> match, Duration timeout, String what) {
        return find(match, timeout, what, false).item();
    }

    /**
     * @param count   how many
     * @param match   what to count
     * @param timeout how long to wait
     * @throws AssertionError if fewer than {@code count} matching items were recorded in time
     */
    public void awaitCount(int count, Predicate<? super T> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                long n = all.stream().filter(t -> match.test(t.item())).count();
                if (n >= count) {
                    return;
                }
                if (!waitUntil(deadline)) {
                    throw new AssertionError("fewer than " + count + " matched within " + timeout.toMillis() + " ms; got " + n
                            + "; recorded:" + describeLocked());
                }
            }
        }
    }

    // ---- reading in order

    /**
     * @param type    the class wanted
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the next item of that type after the previous {@code next…} match
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> E next(Class<E> type, Duration timeout) {
        return nextTimed(type, timeout).item();
    }

    /**
     * @param type    the class wanted
     * @param match   what else it must satisfy
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the next item of that type matching, after the previous {@code next…} match
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> E next(Class<E> type, Predicate<? super E> match, Duration timeout) {
        return nextTimed(type, match, timeout).item();
    }

    /**
     * @param match   what to wait for
     * @param timeout how long to wait
     * @param what    a description for the failure message
     * @return the next matching item after the previous {@code next…} match
     * @throws AssertionError if none arrives in time
     */
    public T next(Predicate<? super T> match, Duration timeout, String what) {
        return find(match, timeout, what, true).item();
    }

    /**
     * @param type    the class wanted
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the next item of that type, with its arrival time
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> Timed<E> nextTimed(Class<E> type, Duration timeout) {
        return nextTimed(type, e -> true, timeout);
    }

    /**
     * @param type    the class wanted
     * @param match   what else it must satisfy
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the next item of that type matching, with its arrival time
     * @throws AssertionError if none arrives in time
     */
    public <E extends T> Timed<E> nextTimed(Class<E> type, Predicate<? super E> match, Duration timeout) {
        Timed<T> t = find(x -> type.isInstance(x) && match.test(type.cast(x)), timeout, type.getSimpleName(), true);
        return new Timed<>(type.cast(t.item()), t.nanos());
    }

    private Timed<T> find(Predicate<? super T> match, Duration timeout, String what, boolean inOrder) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            int from = inOrder ? cursor : 0;
            while (true) {
                for (int i = from; i < all.size(); i++) {
                    Timed<T> t = all.get(i);
                    if (match.test(t.item())) {
                        if (inOrder) {
                            cursor = i + 1;
                        }
                        return t;
                    }
                }
                from = all.size();
                if (!waitUntil(deadline)) {
                    if (inOrder) {
                        cursor = all.size();
                    }
                    throw new AssertionError("no " + what + " within " + timeout.toMillis() + " ms; recorded so far:" + describeLocked());
                }
            }
        }
    }

    /** Waits on the lock until something arrives or the deadline passes; false once the deadline has passed. */
    private boolean waitUntil(long deadline) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
        return true;
    }

    // ---- what was recorded

    /** @return every item recorded so far, in order of arrival */
    public List<T> items() {
        synchronized (lock) {
            return all.stream().map(Timed::item).toList();
        }
    }

    /** @return every item recorded so far with its arrival time, in order */
    public List<Timed<T>> timed() {
        synchronized (lock) {
            return List.copyOf(all);
        }
    }

    /**
     * @param match what to count
     * @return how many items recorded so far match
     */
    public long count(Predicate<? super T> match) {
        synchronized (lock) {
            return all.stream().filter(t -> match.test(t.item())).count();
        }
    }

    /** @return the simple class names of every item recorded so far, in order (e.g. lifecycle event kinds) */
    public List<String> names() {
        synchronized (lock) {
            return all.stream().map(t -> t.item().getClass().getSimpleName()).toList();
        }
    }

    /** @return the last 30 items recorded, one per line, and the stream's error if it failed: for failure messages */
    public String describe() {
        synchronized (lock) {
            return describeLocked();
        }
    }

    private String describeLocked() {
        StringBuilder b = new StringBuilder();
        if (all.size() > DESCRIBED) {
            b.append("\n  (").append(all.size() - DESCRIBED).append(" earlier items)");
        }
        for (Timed<T> t : all.subList(Math.max(0, all.size() - DESCRIBED), all.size())) {
            b.append("\n  ").append(t.item());
        }
        Throwable f = failure;
        if (f != null) {
            b.append("\n  (stream failed: ").append(f).append(')');
        }
        return b.toString();
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
