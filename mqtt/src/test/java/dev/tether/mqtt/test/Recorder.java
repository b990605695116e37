package dev.tether.mqtt.test;

import dev.tether.core.LifecycleEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Records a stream (lifecycle events, received messages) and waits for elements with a timeout,
 * without sleeping.
 *
 * @param <T> the element type
 */
public final class Recorder<T> implements AutoCloseable {

    private final List<T> items = new CopyOnWriteArrayList<>();
    private final Sinks.Many<T> replay = Sinks.many().replay().all();
    private final Disposable subscription;

    private Recorder(Flux<T> source) {
        subscription = source.subscribe(t -> {
            items.add(t);
            synchronized (replay) {
                replay.tryEmitNext(t);
            }
        }, e -> { }, () -> { });
    }

    /**
     * @param source the stream
     * @param <T>    element type
     * @return a recorder subscribed to it
     */
    public static <T> Recorder<T> of(Flux<T> source) {
        return new Recorder<>(source);
    }

    /**
     * @param source a lifecycle stream
     * @return a recorder of it
     */
    public static Recorder<LifecycleEvent> lifecycle(Flux<LifecycleEvent> source) {
        return new Recorder<>(source);
    }

    /** @return what was recorded so far */
    public List<T> items() {
        return List.copyOf(items);
    }

    /**
     * @param type    the class wanted
     * @param timeout how long to wait
     * @param <E>     the type
     * @return the first recorded element of that type
     */
    public <E extends T> E await(Class<E> type, Duration timeout) {
        return type.cast(await(type::isInstance, timeout));
    }

    /**
     * @param condition what to wait for
     * @param timeout   how long
     * @return the first recorded element matching
     * @throws AssertionError if none arrives in time
     */
    public T await(Predicate<? super T> condition, Duration timeout) {
        T found = replay.asFlux().filter(condition).next().timeout(timeout).onErrorResume(e -> reactor.core.publisher.Mono.empty())
                .block();
        if (found == null) {
            throw new AssertionError("nothing matched within " + timeout.toMillis() + " ms; recorded: " + items);
        }
        return found;
    }

    /**
     * @param count     how many
     * @param condition what to count
     * @param timeout   how long to wait
     */
    public void awaitCount(int count, Predicate<? super T> condition, Duration timeout) {
        Long n = replay.asFlux().filter(condition).take(count).count().timeout(timeout)
                .onErrorResume(e -> reactor.core.publisher.Mono.just(-1L)).block();
        if (n == null || n < count) {
            throw new AssertionError("fewer than " + count + " matched within " + timeout.toMillis() + " ms; got "
                    + items.stream().filter(condition).count());
        }
    }

    @Override
    public void close() {
        subscription.dispose();
    }
}
