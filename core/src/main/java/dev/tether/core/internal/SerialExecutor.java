package dev.tether.core.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on whichever thread submits while nobody else is
 * draining. A task submitted from inside a task runs after it, never nested: state machines built
 * on it need no locks and cannot re-enter themselves.
 *
 * <p>A task submitted while no task runs is run at once without passing through the queue, and the queue exists
 * only from the first task that had to wait: a connection that is idle holds no queue and no queue node.
 */
@SuppressWarnings("serial") // never serialized; the counter of tasks to run is the object itself (one object less per connection)
final class SerialExecutor extends AtomicInteger {

    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<SerialExecutor, Queue> QUEUE =
            AtomicReferenceFieldUpdater.newUpdater(SerialExecutor.class, Queue.class, "queue");

    private volatile @Nullable Queue<Runnable> queue;

    void execute(Runnable task) {
        if (get() == 0 && compareAndSet(0, 1)) {
            // Nobody runs or has queued a task (a submitter queues before it counts): this one is next.
            run(task);
            int missed = addAndGet(-1);
            if (missed != 0) {
                drain(missed);
            }
            return;
        }
        queue().offer(task);
        if (getAndIncrement() == 0) {
            drain(1);
        }
    }

    private void drain(int missedBefore) {
        int missed = missedBefore;
        do {
            Queue<Runnable> q = queue;
            if (q != null) {
                Runnable next;
                while ((next = q.poll()) != null) {
                    run(next);
                }
            }
            missed = addAndGet(-missed);
        } while (missed != 0);
    }

    @SuppressWarnings("unchecked")
    private Queue<Runnable> queue() {
        Queue<Runnable> q = queue;
        if (q == null) {
            Queue<Runnable> created = new ConcurrentLinkedQueue<>();
            // Once set, the queue is never taken away: after a lost race it is the other thread's.
            q = QUEUE.compareAndSet(this, null, created) ? created : java.util.Objects.requireNonNull(queue);
        }
        return q;
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            log.error("connection state task failed", t);
        }
    }
}
