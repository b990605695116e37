package dev.tether.benchmarks.internal;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * A slow consumer under a flood, in the subscriber's own JVM: the client subscribes at QoS 1 with its
 * reactive API, hands every message to one worker thread that spends {@link #WORK} of CPU on it (a
 * checksum over the payload, repeated until the time is up: work, not sleep), and announces
 * {@link #READY_LINE} once its subscription carries messages. The harness then publishes
 * {@link #MESSAGES} messages of {@link #PAYLOAD} bytes at QoS 1 as fast as the broker takes them, from
 * its own JVM, so the backlog sits in the broker if the subscriber's client follows demand, and in the
 * subscriber's heap if it does not. Meanwhile the heap is watched: the used heap after every
 * collection (what is still referenced), the used heap sampled every {@link #SAMPLE_EVERY} (garbage
 * not yet collected included), and the peak of the old generation pool since the start.
 */
final class SlowConsumerWorkload {

    static final int MESSAGES = 10_000;
    static final int PAYLOAD = 16 * 1024;
    static final Duration WORK = Duration.ofMillis(2);
    /** What the worker asks for ahead, the same for every client ({@code publishOn} / {@code observeOn}). */
    static final int PREFETCH = 32;
    /** Receive Maximum of every client in this run: Tether's default. */
    static final int RECEIVE_MAXIMUM = 100;
    static final Duration SAMPLE_EVERY = Duration.ofMillis(5);
    static final Duration TIMEOUT = Duration.ofMinutes(3);
    /** The run ends early when no new message was processed for this long after the first one. */
    static final Duration STALL = Duration.ofSeconds(10);
    static final String READY_LINE = "READY";
    static final double MIB = 1024.0 * 1024.0;

    /** Keeps the worker's checksum alive, so the work cannot be optimised away. */
    static volatile long blackhole;

    private SlowConsumerWorkload() {
    }

    /** The payload of message {@code seq}: the measured marker, the sequence number, then zeros. */
    static byte[] payload(int seq) {
        byte[] p = new byte[PAYLOAD];
        p[0] = MqttWorkloads.MEASURED;
        ByteBuffer.wrap(p, 1, 4).putInt(seq);
        return p;
    }

    /**
     * @return processed, missing, duplicates, stalled, first_missing, last_missing, drain_s,
     *         peak_heap_after_gc_mib, peak_heap_sampled_mib, peak_old_gen_mib, gc_count, baseline_heap_mib,
     *         disconnects
     */
    static Map<String, Double> run(String driver, String host, int port) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String topic = "bench/" + run + "/slow";
        BitSet seen = new BitSet(MESSAGES);
        AtomicLong processed = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        AtomicLong firstAt = new AtomicLong();
        AtomicLong lastAt = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(1);
        CountDownLatch all = new CountDownLatch(MESSAGES);
        Consumer<byte[]> work = p -> {
            if (p.length > 0 && p[0] == MqttWorkloads.PROBE) {
                ready.countDown();
                return;
            }
            long start = System.nanoTime();
            firstAt.compareAndSet(0, start);
            long deadline = start + WORK.toNanos();
            long sum = 0;
            do {
                for (int i = 0; i < p.length; i += 64) {
                    sum = sum * 31 + p[i];
                }
            } while (System.nanoTime() < deadline);
            blackhole += sum;
            int seq = p.length >= 5 ? ByteBuffer.wrap(p, 1, 4).getInt() : -1;
            if (seq < 0 || seq >= MESSAGES) {
                return;
            }
            synchronized (seen) {
                if (seen.get(seq)) {
                    duplicates.incrementAndGet();
                    return;
                }
                seen.set(seq);
            }
            processed.incrementAndGet();
            lastAt.set(System.nanoTime());
            all.countDown();
        };
        MqttDriver sub = MqttDriver.load(driver);
        try {
            sub.connect(host, port, "bench-slow-" + run, Settings.WINDOW, RECEIVE_MAXIMUM);
            sub.subscribeOnWorker(topic, 1, PREFETCH, work);
            awaitProbe(sub, topic, ready);
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            double baseline = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / MIB;
            try (HeapWatch watch = HeapWatch.start()) {
                System.out.println(READY_LINE + " " + topic);
                System.out.flush();
                boolean done = awaitAll(all, processed);
                HeapWatch.Peaks peaks = watch.peaks();
                Map<String, Double> result = new LinkedHashMap<>();
                result.put("processed", (double) processed.get());
                result.put("missing", (double) (MESSAGES - processed.get()));
                result.put("duplicates", (double) duplicates.get());
                result.put("stalled", done ? 0.0 : 1.0);
                int firstMissing;
                int lastMissing;
                synchronized (seen) {
                    firstMissing = seen.nextClearBit(0);
                    lastMissing = seen.previousClearBit(MESSAGES - 1);
                }
                result.put("first_missing", firstMissing >= MESSAGES ? -1.0 : firstMissing);
                result.put("last_missing", (double) lastMissing);
                // From the first measured message to the last one processed (all of them unless stalled).
                result.put("drain_s", processed.get() > 0 ? (lastAt.get() - firstAt.get()) / 1e9 : Double.NaN);
                result.put("peak_heap_after_gc_mib", peaks.afterGc() / MIB);
                result.put("peak_heap_sampled_mib", peaks.sampled() / MIB);
                result.put("peak_old_gen_mib", peaks.oldGen() / MIB);
                result.put("gc_count", (double) peaks.collections());
                result.put("baseline_heap_mib", baseline);
                result.put("disconnects", (double) sub.disconnects());
                return result;
            }
        } finally {
            try {
                sub.close();
            } catch (RuntimeException e) {
                // Measured already; a client that lost its connection may refuse to disconnect.
                System.err.println("closing the subscriber failed: " + e);
            }
        }
    }

    /**
     * Waits for every message, at most {@link #TIMEOUT}, and gives up earlier when nothing new was
     * processed for {@link #STALL} after the first message (a broker that strands the last few).
     *
     * @return whether every message was processed
     */
    private static boolean awaitAll(CountDownLatch all, AtomicLong processed) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        long seen = 0;
        long progressAt = System.nanoTime();
        while (System.nanoTime() < deadline) {
            if (all.await(200, TimeUnit.MILLISECONDS)) {
                return true;
            }
            long now = processed.get();
            if (now != seen) {
                seen = now;
                progressAt = System.nanoTime();
            } else if (now > 0 && System.nanoTime() - progressAt > STALL.toNanos()) {
                return false;
            }
        }
        return false;
    }

    /** The subscriber publishes a probe to its own topic until it comes back through the worker. */
    private static void awaitProbe(MqttDriver sub, String topic, CountDownLatch ready) throws Exception {
        long deadline = System.nanoTime() + MqttWorkloads.READY_TIMEOUT.toNanos();
        byte[] probe = {MqttWorkloads.PROBE};
        while (ready.getCount() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no message came back on " + topic + " within " + MqttWorkloads.READY_TIMEOUT);
            }
            sub.publish(topic, probe, 0, failure -> { });
            ready.await(50, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Watches the heap from {@link #start()} to {@link #close()}: the largest used heap right after a
     * collection (from the collectors' notifications), the largest of periodic samples of the used heap,
     * and the old generation pool's peak ({@link MemoryPoolMXBean#getPeakUsage()}, reset at the start).
     */
    static final class HeapWatch implements AutoCloseable {

        /** The peaks seen, in bytes, and the number of collections. */
        record Peaks(double afterGc, double sampled, double oldGen, long collections) {
        }

        private final Set<String> heapPools;
        private final List<MemoryPoolMXBean> oldPools;
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private final NotificationListener listener;
        private final AtomicLong afterGc = new AtomicLong(-1);
        private final AtomicLong sampled = new AtomicLong();
        private final AtomicLong collections = new AtomicLong();
        private final Thread sampler;
        private volatile boolean running = true;

        private HeapWatch() {
            List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).toList();
            heapPools = pools.stream().map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
            oldPools = pools.stream().filter(p -> p.getName().contains("Old") || p.getName().contains("Tenured")).toList();
            pools.forEach(MemoryPoolMXBean::resetPeakUsage);
            listener = this::onNotification;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
                if (gc instanceof NotificationEmitter emitter) {
                    emitter.addNotificationListener(listener, null, null);
                    emitters.add(emitter);
                }
            }
            sampler = new Thread(() -> {
                while (running) {
                    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    sampled.accumulateAndGet(used, Math::max);
                    try {
                        Thread.sleep(SAMPLE_EVERY.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        static HeapWatch start() {
            return new HeapWatch();
        }

        private void onNotification(Notification n, Object handback) {
            if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                return;
            }
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long used = 0;
            for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                if (heapPools.contains(e.getKey())) {
                    used += e.getValue().getUsed();
                }
            }
            // Concurrent cycles report too; only pauses that collected something say what is still referenced.
            if (!info.getGcAction().contains("concurrent") && !info.getGcName().contains("Concurrent")) {
                collections.incrementAndGet();
                afterGc.accumulateAndGet(used, Math::max);
            }
        }

        Peaks peaks() {
            double old = 0;
            for (MemoryPoolMXBean p : oldPools) {
                old += p.getPeakUsage().getUsed();
            }
            long gc = afterGc.get();
            return new Peaks(gc < 0 ? Double.NaN : gc, sampled.get(), old, collections.get());
        }

        @Override
        public void close() {
            running = false;
            sampler.interrupt();
            for (NotificationEmitter e : emitters) {
                try {
                    e.removeNotificationListener(listener);
                } catch (ListenerNotFoundException ignored) {
                    // Already gone.
                }
            }
        }
    }
}
