package dev.tether.core;

import org.jspecify.annotations.Nullable;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reactor operators that tie user pipelines to a {@link ResilientConnection}. Use them with
 * {@code transform}:
 *
 * <pre>{@code
 * readings.transform(ConnectionOperators.bufferWhileDisconnected(conn, 1_000, OverflowPolicy.DROP_OLDEST))
 *         .concatMap(r -> conn.session().flatMap(s -> s.publish(r)))
 *         .subscribe();
 * }</pre>
 *
 * <p>They are built from standard operators, so the subscriber's {@code Context} reaches the source.
 */
public final class ConnectionOperators {

    private ConnectionOperators() {
    }

    /**
     * @param connection the connection
     * @param timeout    how long to wait
     * @param <S>        the session type
     * @return the current or next session, or a {@link java.util.concurrent.TimeoutException}
     */
    public static <S> Mono<S> awaitConnected(ResilientConnection<S> connection, Duration timeout) {
        return connection.awaitConnected(timeout);
    }

    /**
     * Holds each element until the connection is connected, one at a time and in order; while
     * disconnected, upstream demand stops (backpressure), so a fast source is slowed, not dropped.
     *
     * @param connection the connection to wait for
     * @param <T>        the element type
     * @return the operator; errors with {@link ConnectionClosedException} when the connection closes
     *         while an element waits (its cause is the terminal exception after a terminal verdict,
     *         null after a user close)
     */
    public static <T> Function<Flux<T>, Flux<T>> pauseWhileDisconnected(ResilientConnection<?> connection) {
        Objects.requireNonNull(connection, "connection");
        return source -> source.concatMap(item -> connection.session().thenReturn(item), 0);
    }

    /**
     * Like {@link #pauseWhileDisconnected}, with a bounded buffer in front: while disconnected up to
     * {@code capacity} elements wait (plus the one element the pause itself holds), and the
     * {@link OverflowPolicy} decides what happens beyond. With {@link OverflowPolicy#FAIL_NEWEST} the
     * stream errors with a {@link BufferOverflowException} after the elements accepted before the
     * overflow have been delivered: nothing accepted is lost.
     *
     * @param connection the connection to wait for
     * @param capacity   how many elements may wait, at least 1
     * @param policy     what to do when full
     * @param <T>        the element type
     * @return the operator
     */
    public static <T> Function<Flux<T>, Flux<T>> bufferWhileDisconnected(ResilientConnection<?> connection, int capacity,
                                                                       OverflowPolicy policy) {
        return bufferWhileDisconnected(connection, capacity, policy, dropped -> { });
    }

    /**
     * Like {@link #bufferWhileDisconnected(ResilientConnection, int, OverflowPolicy)}, told about
     * every dropped element.
     *
     * @param connection the connection to wait for
     * @param capacity   how many elements may wait, at least 1
     * @param policy     what to do when full
     * @param onDropped  called with each element a dropping policy discards
     * @param <T>        the element type
     * @return the operator
     */
    public static <T> Function<Flux<T>, Flux<T>> bufferWhileDisconnected(ResilientConnection<?> connection, int capacity,
                                                                       OverflowPolicy policy, Consumer<? super T> onDropped) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(onDropped, "onDropped");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, but was " + capacity);
        }
        Function<Flux<T>, Flux<T>> pause = pauseWhileDisconnected(connection);
        return source -> {
            Flux<T> buffered = switch (policy) {
                case FAIL_NEWEST -> source.onBackpressureBuffer(capacity, onDropped, BufferOverflowStrategy.ERROR)
                        .onErrorMap(reactor.core.Exceptions::isOverflow, e -> new BufferOverflowException(capacity, "elements"));
                case DROP_OLDEST -> source.onBackpressureBuffer(capacity, onDropped, BufferOverflowStrategy.DROP_OLDEST);
                case DROP_NEWEST -> source.onBackpressureBuffer(capacity, onDropped, BufferOverflowStrategy.DROP_LATEST);
            };
            return pause.apply(buffered);
        };
    }

    /**
     * Maps the lifecycle to a health status, emitting only when the status changes.
     *
     * @param connection the connection
     * @return the health, current first; after a user close it ends with {@code OUT_OF_SERVICE} and
     *         completes, after a terminal verdict it ends with {@code DOWN} and errors with a
     *         {@link ConnectionClosedException} caused by the terminal exception
     */
    public static Flux<Health> health(ResilientConnection<?> connection) {
        Objects.requireNonNull(connection, "connection");
        return Flux.defer(() -> {
            boolean[] flags = {false, false};
            return connection.lifecycle()
                    .onErrorMap(e -> !(e instanceof ConnectionClosedException), e -> new ConnectionClosedException(
                            "connection '" + connection.name() + "' closed for good: " + e.getMessage(), e))
                    .<Health>handle((event, sink) -> {
                        Health h = toHealth(event, flags);
                        if (h != null) {
                            sink.next(h);
                        }
                    })
                    .distinctUntilChanged(Health::status);
        });
    }

    private static @Nullable Health toHealth(LifecycleEvent event, boolean[] flags) {
        // flags[0]: was ever connected; flags[1]: the user asked to close (a disconnect then is no outage).
        boolean[] everConnected = flags;
        if (event instanceof LifecycleEvent.CloseRequested) {
            flags[1] = true;
            return null;
        }
        if (flags[1] && !(event instanceof LifecycleEvent.Closed)) {
            return null;
        }
        if (event instanceof LifecycleEvent.Connected c) {
            everConnected[0] = true;
            return new Health(Health.Status.UP, c.generation(), c.timestamp(), "connected to " + c.endpoint());
        }
        if (event instanceof LifecycleEvent.Idle || event instanceof LifecycleEvent.Connecting
                || event instanceof LifecycleEvent.RetryScheduled || event instanceof LifecycleEvent.Disconnected) {
            String detail = event instanceof LifecycleEvent.RetryScheduled r ? "retrying after " + r.cause()
                    : event instanceof LifecycleEvent.Disconnected d && d.cause() != null ? "disconnected: " + d.cause()
                    : "connecting";
            return new Health(everConnected[0] ? Health.Status.RECONNECTING : Health.Status.STARTING,
                    event.generation(), event.timestamp(), detail);
        }
        if (event instanceof LifecycleEvent.Closed c) {
            return c.cause() == null
                    ? new Health(Health.Status.OUT_OF_SERVICE, c.generation(), c.timestamp(), "closed")
                    : new Health(Health.Status.DOWN, c.generation(), c.timestamp(), String.valueOf(c.cause().getMessage()));
        }
        return null;
    }
}
