package dev.tether.core.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.FluxSink;

/**
 * One subscriber's unbounded buffer that costs nothing while it is empty. Reactor's
 * {@code OverflowStrategy.BUFFER} gives every subscriber a queue of 256 slots up front (about a kilobyte),
 * which an idle connection with a lifecycle subscriber keeps for its whole life although its events come a
 * few at a time. This buffer sits on a sink created with {@code OverflowStrategy.IGNORE}: it passes on at most
 * what the subscriber requested, keeps the rest in a linked queue, and completes or fails the subscriber once
 * everything before the end was delivered, as the BUFFER strategy does.
 *
 * @param <T> the element type
 */
final class SmallBufferSink<T> {

    private final FluxSink<T> sink;
    private final Queue<T> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean done;
    private volatile @Nullable Throwable error;
    /** Read and written by the draining thread only. */
    private boolean terminated;

    /** @param sink a sink created with {@code OverflowStrategy.IGNORE}; this buffer honours its demand */
    SmallBufferSink(FluxSink<T> sink) {
        this.sink = sink;
        sink.onRequest(n -> drain());
        sink.onCancel(this::drain);
    }

    /** @return the sink, for its dispose callbacks */
    FluxSink<T> sink() {
        return sink;
    }

    /** @param value delivered once requested, after everything before it */
    void next(T value) {
        if (!done) {
            queue.offer(value);
            drain();
        }
    }

    /** Completes the subscriber after what is buffered. */
    void complete() {
        done = true;
        drain();
    }

    /** @param e the subscriber's error, after what is buffered */
    void error(Throwable e) {
        error = e;
        done = true;
        drain();
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            if (sink.isCancelled()) {
                queue.clear();
            } else {
                while (sink.requestedFromDownstream() > 0) {
                    T next = queue.poll();
                    if (next == null) {
                        break;
                    }
                    sink.next(next);
                }
                if (done && !terminated && queue.isEmpty()) {
                    terminated = true;
                    Throwable e = error;
                    if (e != null) {
                        sink.error(e);
                    } else {
                        sink.complete();
                    }
                }
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }
}
