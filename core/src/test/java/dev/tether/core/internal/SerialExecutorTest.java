package dev.tether.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The engine's serial executor: one task at a time, in submission order, none lost, nothing nested. */
class SerialExecutorTest {

    @Test
    void tasksSubmittedFromTasksRunAfterThemInSubmissionOrder() {
        SerialExecutor serial = new SerialExecutor();
        List<String> ran = new ArrayList<>();
        serial.execute(() -> {
            ran.add("a");
            serial.execute(() -> {
                ran.add("b");
                serial.execute(() -> ran.add("d"));
                ran.add("b-end");
            });
            serial.execute(() -> ran.add("c"));
            ran.add("a-end");
        });
        assertThat(ran).containsExactly("a", "a-end", "b", "b-end", "c", "d");
        assertThat(serial.get()).isZero();
        // Idle again: the next task runs at once.
        serial.execute(() -> ran.add("e"));
        assertThat(ran).endsWith("e");
    }

    @Test
    void aFailingTaskDoesNotStopTheOnesAfterIt() {
        SerialExecutor serial = new SerialExecutor();
        List<String> ran = new ArrayList<>();
        serial.execute(() -> {
            serial.execute(() -> {
                throw new IllegalStateException("expected by the test");
            });
            serial.execute(() -> ran.add("after"));
        });
        assertThat(ran).containsExactly("after");
    }

    @Test
    void tasksFromManyThreadsRunOneAtATimeInEachThreadsOrderAndNoneIsLost() throws Exception {
        SerialExecutor serial = new SerialExecutor();
        int threads = 4;
        int perThread = 20_000;
        int[] last = new int[threads];
        java.util.Arrays.fill(last, -1);
        AtomicBoolean inside = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger outOfOrder = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread worker = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        int seq = i;
                        serial.execute(() -> {
                            if (!inside.compareAndSet(false, true)) {
                                overlaps.incrementAndGet();
                            }
                            // Plain array: only one task at a time may touch it.
                            if (last[thread] != seq - 1) {
                                outOfOrder.incrementAndGet();
                            }
                            last[thread] = seq;
                            if (seq % 1000 == 0) {
                                // A nested submission now and then, as the engine's tasks do.
                                serial.execute(ran::incrementAndGet);
                            }
                            ran.incrementAndGet();
                            inside.set(false);
                        });
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }, "serial-test-" + t);
            worker.setDaemon(true);
            worker.start();
        }
        start.countDown();
        assertThat(done.await(60, TimeUnit.SECONDS)).as("submitters finished").isTrue();
        int expected = threads * perThread + threads * (perThread / 1000);
        // Every submitter has returned, so every task has run (a submitter drains what it counted).
        assertThat(ran.get()).isEqualTo(expected);
        assertThat(overlaps.get()).isZero();
        assertThat(outOfOrder.get()).isZero();
        assertThat(serial.get()).isZero();
    }
}
