package dev.tether.benchmarks.internal;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The MQTT workloads, the same code for every contender. Every loop is bounded in time and count.
 *
 * <p>Throughput runs closed-loop with one in-flight window for all: QoS 0 end-to-end (a permit
 * comes back when the subscriber receives the message) and QoS 1 publish-acknowledged (a permit
 * comes back on PUBACK). Latency runs open-loop at a fixed offered rate: each message carries the
 * time it was meant to be sent, so a stalled sender is charged for the wait (no coordinated omission).
 */
final class MqttWorkloads {

    static final byte PROBE = 'P';
    static final byte WARM = 'W';
    static final byte MEASURED = 'M';
    static final long MAX_MESSAGES = 50_000_000L;
    static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);

    private MqttWorkloads() {
    }

    /**
     * @param brokerPid the broker's process id (its CPU is read over the window), or -1
     * @return msgs_per_s, cpu_s_per_million, bytes_per_msg, write_calls_per_msg, system_cpu_share (the kernel's
     *         share of the busy time of the core this process is pinned to), broker_cpu_s_per_million and broker_busy_share (of one core; NaN
     *         without a broker process), errors, warmup_ms (how long the warm-up took until throughput was
     *         steady, or its maximum), warmup_steady (1 or 0)
     */
    static Map<String, Double> throughput(MqttDriver pub, MqttDriver sub, String topic, int qos, boolean endToEnd,
                                          int payloadSize, int window, Duration warmupMin, Duration warmupMax,
                                          Duration measure, long brokerPid)
            throws Exception {
        Semaphore permits = new Semaphore(window);
        AtomicLong completed = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        if (endToEnd) {
            CountDownLatch ready = new CountDownLatch(1);
            sub.subscribe(topic, qos, p -> {
                if (p.length > 0 && p[0] == PROBE) {
                    ready.countDown();
                } else {
                    completed.incrementAndGet();
                    permits.release();
                }
            });
            awaitReady(pub, topic, ready);
        }
        byte[] payload = new byte[Math.max(1, payloadSize)];
        payload[0] = MEASURED;
        SteadyWarmup warm = new SteadyWarmup(warmupMin, warmupMax, System.nanoTime(), completed.get());
        long end = Long.MAX_VALUE;
        Probe first = null;
        long firstCount = 0;
        long sent = 0;
        while (sent < MAX_MESSAGES) {
            long now = System.nanoTime();
            if (first == null && warm.done(now, completed.get())) {
                firstCount = completed.get();
                first = Probe.now(brokerPid);
                end = now + measure.toNanos();
            }
            if (now >= end) {
                break;
            }
            if (!permits.tryAcquire(2, TimeUnit.SECONDS)) {
                errors.incrementAndGet();
                break;
            }
            sent++;
            pub.publish(topic, payload, qos, failure -> {
                if (failure != null) {
                    errors.incrementAndGet();
                }
                if (!endToEnd || failure != null) {
                    if (!endToEnd) {
                        completed.incrementAndGet();
                    }
                    permits.release();
                }
            });
        }
        long lastCount = completed.get();
        Probe last = Probe.now(brokerPid);
        if (first == null) {
            first = last;
            firstCount = lastCount;
        }
        // Let the window drain so the next scenario starts from an idle client.
        if (permits.tryAcquire(window, DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            permits.release(window);
        }
        long count = lastCount - firstCount;
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("msgs_per_s", count > 0 ? first.rate(last, count) : 0.0);
        result.put("cpu_s_per_million", first.cpuSecondsPerMillion(last, count));
        result.put("bytes_per_msg", first.bytesPerOperation(last, count));
        result.put("write_calls_per_msg", first.writeCallsPerOperation(last, count));
        result.put("system_cpu_share", first.systemShare(last));
        result.put("broker_cpu_s_per_million", first.brokerCpuSecondsPerMillion(last, count));
        result.put("broker_busy_share", first.brokerBusyShare(last));
        result.put("errors", (double) errors.get());
        result.put("warmup_ms", warm.tookMillis());
        result.put("warmup_steady", warm.steady() ? 1.0 : 0.0);
        return result;
    }

    /**
     * @return p50_us, p99_us, p999_us, lost
     */
    static Map<String, Double> latency(MqttDriver pub, MqttDriver sub, String topic, int payloadSize, int ratePerSecond,
                                       Duration warmup, Duration measure) throws Exception {
        Histogram histogram = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong received = new AtomicLong();
        CountDownLatch ready = new CountDownLatch(1);
        long warmCount = warmup.toNanos() * ratePerSecond / 1_000_000_000L;
        long total = warmCount + measure.toNanos() * ratePerSecond / 1_000_000_000L;
        CountDownLatch all = new CountDownLatch((int) Math.min(Integer.MAX_VALUE, total - warmCount));
        sub.subscribe(topic, 1, p -> {
            long arrived = System.nanoTime();
            if (p.length > 0 && p[0] == PROBE) {
                ready.countDown();
            } else if (p.length >= 9 && p[0] == MEASURED) {
                long intended = ByteBuffer.wrap(p, 1, 8).getLong();
                histogram.recordValue(Math.max(0, arrived - intended));
                received.incrementAndGet();
                all.countDown();
            }
        });
        awaitReady(pub, topic, ready);
        long interval = 1_000_000_000L / ratePerSecond;
        long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        for (long i = 0; i < total; i++) {
            long intended = t0 + i * interval;
            long wait;
            while ((wait = intended - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            byte[] payload = new byte[Math.max(9, payloadSize)];
            payload[0] = i < warmCount ? WARM : MEASURED;
            ByteBuffer.wrap(payload, 1, 8).putLong(intended);
            pub.publish(topic, payload, 1, failure -> { });
        }
        all.await(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("p50_us", histogram.getValueAtPercentile(50) / 1e3);
        result.put("p99_us", histogram.getValueAtPercentile(99) / 1e3);
        result.put("p999_us", histogram.getValueAtPercentile(99.9) / 1e3);
        result.put("lost", (double) (total - warmCount - received.get()));
        return result;
    }

    private static void awaitReady(MqttDriver pub, String topic, CountDownLatch ready) throws Exception {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        byte[] probe = {PROBE};
        while (ready.getCount() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no message came back on " + topic + " within " + READY_TIMEOUT);
            }
            pub.publish(topic, probe, 0, failure -> { });
            ready.await(50, TimeUnit.MILLISECONDS);
        }
    }
}
