package dev.tether.core.internal;

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
 * <p>A task submitted while no task runs is run at once. A task that has to wait goes onto a stack of linked
 * nodes; the draining thread takes the whole stack at once and runs it oldest first. Nothing stays behind when
 * the tasks have run: an idle connection holds no queue and no node (a {@code ConcurrentLinkedQueue}, once used,
 * kept itself and two nodes, about 70 bytes per connection).
 */
@SuppressWarnings("serial") // never serialized; the counter of tasks to run is the object itself (one object less per connection)
final class SerialExecutor extends AtomicInteger {

    private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);
    private static final AtomicReferenceFieldUpdater<SerialExecutor, @Nullable Node> WAITING =
            AtomicReferenceFieldUpdater.newUpdater(SerialExecutor.class, Node.class, "waiting");

    /** A task waiting to run, linked to the one submitted before it. */
    private static final class Node {
        final Runnable task;
        @Nullable Node next;

        Node(Runnable task) {
            this.task = task;
        }
    }

    /** The tasks waiting to run, the newest first; null while none waits. */
    private volatile @Nullable Node waiting;

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
        Node node = new Node(task);
        Node top;
        do {
            top = waiting;
            node.next = top;
        } while (!WAITING.compareAndSet(this, top, node));
        if (getAndIncrement() == 0) {
            drain(1);
        }
    }

    private void drain(int missedBefore) {
        int missed = missedBefore;
        do {
            Node taken;
            while ((taken = WAITING.getAndSet(this, null)) != null) {
                // Newest first as taken: reversed, they run in submission order, before anything queued meanwhile.
                Node oldest = null;
                while (taken != null) {
                    Node next = taken.next;
                    taken.next = oldest;
                    oldest = taken;
                    taken = next;
                }
                while (oldest != null) {
                    Node next = oldest.next;
                    oldest.next = null;
                    run(oldest.task);
                    oldest = next;
                }
            }
            missed = addAndGet(-missed);
        } while (missed != 0);
    }

    private static void run(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            log.error("connection state task failed", t);
        }
    }
}
