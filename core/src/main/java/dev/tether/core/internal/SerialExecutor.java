package dev.tether.core.internal;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on whichever thread submits while nobody else is
 * draining. A task submitted from inside a task runs after it, never nested: state machines built
 * on it need no locks and cannot re-enter themselves.
 */
@SuppressWarnings("serial") // never serialized; the counter of tasks to run is the object itself (one object less per connection)
final class SerialExecutor extends AtomicInteger {

    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

    private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();

    void execute(Runnable task) {
        queue.add(task);
        if (getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            Runnable next;
            while ((next = queue.poll()) != null) {
                try {
                    next.run();
                } catch (Throwable t) {
                    log.error("connection state task failed", t);
                }
            }
            missed = addAndGet(-missed);
        } while (missed != 0);
    }
}
