package dev.tether.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

class EventLoopSchedulerTest {

    private final EventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }

    @Test
    void tasksRunOnTheLoopInOrderAndOneSchedulerServesALoop() throws Exception {
        EventLoopScheduler scheduler = EventLoopScheduler.on(loop);
        assertThat(EventLoopScheduler.on(loop)).isSameAs(scheduler);
        List<String> ran = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(3);
        scheduler.schedule(() -> {
            ran.add("later " + loop.inEventLoop());
            done.countDown();
        }, 50, TimeUnit.MILLISECONDS);
        scheduler.schedule(() -> {
            ran.add("first " + loop.inEventLoop());
            done.countDown();
        });
        scheduler.schedule(() -> {
            ran.add("second " + loop.inEventLoop());
            done.countDown();
        });
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran).containsExactly("first true", "second true", "later true");
    }

    @Test
    void aDisposedTaskDoesNotRunAndAPeriodicTaskStops() throws Exception {
        EventLoopScheduler scheduler = EventLoopScheduler.on(loop);
        AtomicInteger cancelled = new AtomicInteger();
        Disposable never = scheduler.schedule(cancelled::incrementAndGet, 200, TimeUnit.MILLISECONDS);
        never.dispose();
        assertThat(never.isDisposed()).isTrue();
        AtomicInteger ticks = new AtomicInteger();
        CountDownLatch three = new CountDownLatch(3);
        Disposable periodic = scheduler.schedulePeriodically(() -> {
            ticks.incrementAndGet();
            three.countDown();
        }, 0, 5, TimeUnit.MILLISECONDS);
        assertThat(three.await(10, TimeUnit.SECONDS)).isTrue();
        periodic.dispose();
        // A task queued after the dispose runs after any tick already queued: the count is final once it ran.
        CountDownLatch after = new CountDownLatch(1);
        scheduler.schedule(after::countDown, 250, TimeUnit.MILLISECONDS);
        assertThat(after.await(10, TimeUnit.SECONDS)).isTrue();
        int final1 = ticks.get();
        CountDownLatch later = new CountDownLatch(1);
        scheduler.schedule(later::countDown, 50, TimeUnit.MILLISECONDS);
        assertThat(later.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ticks.get()).isEqualTo(final1);
        assertThat(cancelled.get()).isZero();
    }

    @Test
    void aDisposedWorkerCancelsItsTasksAndRefusesNewOnes() throws Exception {
        Scheduler.Worker worker = EventLoopScheduler.on(loop).createWorker();
        AtomicInteger ran = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        worker.schedule(() -> {
            ran.incrementAndGet();
            first.countDown();
        });
        assertThat(first.await(10, TimeUnit.SECONDS)).isTrue();
        worker.schedule(ran::incrementAndGet, 200, TimeUnit.MILLISECONDS);
        worker.dispose();
        assertThat(worker.isDisposed()).isTrue();
        assertThatThrownBy(() -> worker.schedule(ran::incrementAndGet)).isInstanceOf(RejectedExecutionException.class);
        CountDownLatch past = new CountDownLatch(1);
        EventLoopScheduler.on(loop).schedule(past::countDown, 300, TimeUnit.MILLISECONDS);
        assertThat(past.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(ran.get()).isEqualTo(1);
    }

    @Test
    void disposingTheSchedulerLeavesTheLoopRunningAndAThrowingTaskDoesNotStopIt() throws Exception {
        EventLoopScheduler scheduler = EventLoopScheduler.on(loop);
        scheduler.dispose();
        assertThat(loop.isShuttingDown()).isFalse();
        scheduler.schedule(() -> {
            throw new IllegalStateException("a task that fails (expected in this test)");
        });
        CountDownLatch next = new CountDownLatch(1);
        scheduler.schedule(next::countDown);
        assertThat(next.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void onceTheLoopShutsDownTasksGoToReactorsParallelScheduler() throws Exception {
        EventLoopScheduler scheduler = EventLoopScheduler.on(loop);
        loop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).await(10, TimeUnit.SECONDS);
        assertThat(scheduler.liveLoop()).isNull();
        String[] thread = new String[1];
        CountDownLatch ran = new CountDownLatch(1);
        scheduler.schedule(() -> {
            thread[0] = Thread.currentThread().getName();
            ran.countDown();
        }, 1, TimeUnit.MILLISECONDS);
        assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(thread[0]).startsWith("parallel-");
    }
}
