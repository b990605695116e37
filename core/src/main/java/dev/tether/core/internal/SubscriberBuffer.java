package dev.tether.core.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Operators;

/**
 * One subscriber of a hot stream of the engine ({@code lifecycle()}, {@code sessions()}): its subscription and
 * a bounded buffer that costs nothing until a value has to wait for demand. Values come from one producer
 * at a time (the engine's serial tasks); requests and the cancel from any thread. A value goes straight to the
 * subscriber when it has demand and nothing waits before it, else into a linked queue created then; the end
 * comes after everything before it, as with Reactor's {@code BUFFER} strategy. At most {@code bound} values
 * wait: beyond that the oldest are dropped (the newest, the end included, are never the ones lost) and, if
 * {@link #marker(long)} makes one, the subscriber receives one value in their place that says how many.
 *
 * <p>It replaces a {@code Flux.create} sink with a buffer of its own on top, which cost an idle connected client
 * about 300 bytes per subscriber (the sink, its serializing wrapper and queue, the dispose callbacks, an empty
 * linked queue); this is one object until a subscriber falls behind.
 *
 * <p><b>Internal:</b> not part of the API.
 *
 * @param <T> the element type
 */
abstract class SubscriberBuffer<T> implements Subscription {

    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<SubscriberBuffer> WIP =
            AtomicIntegerFieldUpdater.newUpdater(SubscriberBuffer.class, "wip");
    @SuppressWarnings("rawtypes")
    private static final AtomicLongFieldUpdater<SubscriberBuffer> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(SubscriberBuffer.class, "requested");
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<SubscriberBuffer> WAITING =
            AtomicIntegerFieldUpdater.newUpdater(SubscriberBuffer.class, "waiting");
    @SuppressWarnings("rawtypes")
    private static final AtomicLongFieldUpdater<SubscriberBuffer> DROPPED =
            AtomicLongFieldUpdater.newUpdater(SubscriberBuffer.class, "dropped");

    private final Subscriber<? super T> actual;
    private final int bound;
    /** Values in the queue (a linked queue counts them in linear time). */
    private volatile int waiting;
    /** Values dropped since the subscriber was last told. */
    private volatile long dropped;
    /** Created by the producer when a value has to wait; read by whoever drains. */
    private volatile @Nullable Queue<T> queue;
    private volatile int wip;
    private volatile long requested;
    private volatile boolean done;
    private volatile boolean cancelled;
    private volatile @Nullable Throwable error;
    /** Read and written by the draining thread only. */
    private boolean terminated;

    /**
     * @param actual the subscriber; {@link #start()} hands it this subscription
     * @param bound  how many values may wait for the subscriber's demand (at least 1)
     */
    SubscriberBuffer(Subscriber<? super T> actual, int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("bound must be at least 1, was " + bound);
        }
        this.actual = actual;
        this.bound = bound;
    }

    /**
     * @param count how many values were dropped since the subscriber was last told
     * @return the value that tells the subscriber, or null to drop silently (the default)
     */
    @Nullable T marker(long count) {
        return null;
    }

    /** @return how many values wait for the subscriber's demand */
    final int waiting() {
        return waiting;
    }

    /** Calls the subscriber's {@code onSubscribe}; call once, before the first value. */
    final void start() {
        actual.onSubscribe(this);
    }

    /** Called once, on the thread that cancels: the owner forgets this subscriber. */
    abstract void onCancel();

    /** @return whether the subscriber cancelled */
    final boolean isCancelled() {
        return cancelled;
    }

    /** @param value delivered once requested, after everything before it; one producer at a time */
    final void next(T value) {
        if (done || cancelled) {
            return;
        }
        if (wip == 0 && WIP.compareAndSet(this, 0, 1)) {
            Queue<T> q = queue;
            if ((q == null || q.isEmpty()) && dropped == 0 && requested != 0) {
                actual.onNext(value);
                if (requested != Long.MAX_VALUE) {
                    REQUESTED.decrementAndGet(this);
                }
            } else {
                enqueue(value);
            }
            int missed = WIP.addAndGet(this, -1);
            if (missed != 0) {
                drainLoop(missed);
            }
            return;
        }
        enqueue(value);
        drain();
    }

    /** Completes the subscriber after what is buffered. */
    final void complete() {
        done = true;
        drain();
    }

    /** @param e the subscriber's error, after what is buffered */
    final void error(Throwable e) {
        error = e;
        done = true;
        drain();
    }

    @Override
    public final void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            drain();
        }
    }

    @Override
    public final void cancel() {
        if (!cancelled) {
            cancelled = true;
            onCancel();
            drain();
        }
    }

    private void enqueue(T value) {
        Queue<T> q = queue;
        if (q == null) {
            q = new ConcurrentLinkedQueue<>();
            queue = q;
        }
        q.offer(value);
        if (WAITING.incrementAndGet(this) > bound && q.poll() != null) {
            WAITING.decrementAndGet(this);
            DROPPED.incrementAndGet(this);
        }
    }

    private void drain() {
        if (WIP.getAndIncrement(this) == 0) {
            drainLoop(1);
        }
    }

    private void drainLoop(int missedBefore) {
        int missed = missedBefore;
        do {
            Queue<T> q = queue;
            if (cancelled) {
                if (q != null) {
                    while (q.poll() != null) {
                        WAITING.decrementAndGet(this);
                    }
                }
            } else {
                if (q != null) {
                    while (requested != 0) {
                        long lost = dropped;
                        if (lost != 0) {
                            DROPPED.addAndGet(this, -lost);
                            T mark = marker(lost);
                            if (mark == null) {
                                continue;
                            }
                            actual.onNext(mark);
                            if (requested != Long.MAX_VALUE) {
                                REQUESTED.decrementAndGet(this);
                            }
                            continue;
                        }
                        T next = q.poll();
                        if (next == null) {
                            break;
                        }
                        WAITING.decrementAndGet(this);
                        actual.onNext(next);
                        if (requested != Long.MAX_VALUE) {
                            REQUESTED.decrementAndGet(this);
                        }
                    }
                }
                if (done && !terminated && (q == null || q.isEmpty()) && dropped == 0) {
                    terminated = true;
                    Throwable e = error;
                    if (e != null) {
                        actual.onError(e);
                    } else {
                        actual.onComplete();
                    }
                }
            }
            missed = WIP.addAndGet(this, -missed);
        } while (missed != 0);
    }
}
