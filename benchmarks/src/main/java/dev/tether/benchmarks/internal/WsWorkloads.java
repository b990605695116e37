package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * WebSocket workloads against the echo server: streaming with one in-flight window (a permit comes
 * back with each echo), and ping-pong (one message at a time, round trip recorded). Bounded in time
 * and count.
 */
final class WsWorkloads {

    static final long MAX_MESSAGES = 50_000_000L;

    private WsWorkloads() {
    }

    static Map<String, Double> stream(WsPipe pipe, int payloadSize, int window, Duration warmupMin, Duration warmupMax,
                                      Duration measure, long serverPid) throws InterruptedException {
        Semaphore permits = new Semaphore(window);
        AtomicLong echoed = new AtomicLong();
        pipe.onMessage(b -> {
            echoed.incrementAndGet();
            permits.release();
        });
        byte[] payload = new byte[payloadSize];
        SteadyWarmup warm = new SteadyWarmup(warmupMin, warmupMax, System.nanoTime(), echoed.get());
        long end = Long.MAX_VALUE;
        Probe first = null;
        long firstCount = 0;
        long errors = 0;
        for (long sent = 0; sent < MAX_MESSAGES; sent++) {
            long now = System.nanoTime();
            if (first == null && warm.done(now, echoed.get())) {
                firstCount = echoed.get();
                first = Probe.now(serverPid);
                end = now + measure.toNanos();
            }
            if (now >= end) {
                break;
            }
            if (!permits.tryAcquire(2, TimeUnit.SECONDS)) {
                errors++;
                break;
            }
            pipe.send(payload);
        }
        long lastCount = echoed.get();
        Probe last = Probe.now(serverPid);
        if (first == null) {
            first = last;
            firstCount = lastCount;
        }
        permits.tryAcquire(window, 5, TimeUnit.SECONDS);
        long count = lastCount - firstCount;
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("msgs_per_s", count > 0 ? first.rate(last, count) : 0.0);
        result.put("cpu_s_per_million", first.cpuSecondsPerMillion(last, count));
        // Near 1.0: the echo server's core was the ceiling for either client.
        result.put("server_busy_share", first.brokerBusyShare(last));
        result.put("errors", (double) errors);
        result.put("warmup_ms", warm.tookMillis());
        result.put("warmup_steady", warm.steady() ? 1.0 : 0.0);
        return result;
    }

    static Map<String, Double> pingPong(WsPipe pipe, int payloadSize, Duration warmup, Duration measure)
            throws InterruptedException {
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        Semaphore echo = new Semaphore(0);
        pipe.onMessage(b -> echo.release());
        byte[] payload = new byte[payloadSize];
        long measureFrom = System.nanoTime() + warmup.toNanos();
        long end = measureFrom + measure.toNanos();
        long lost = 0;
        for (long i = 0; i < MAX_MESSAGES; i++) {
            long sentAt = System.nanoTime();
            if (sentAt >= end) {
                break;
            }
            pipe.send(payload);
            if (!echo.tryAcquire(2, TimeUnit.SECONDS)) {
                lost++;
                break;
            }
            if (sentAt >= measureFrom) {
                histogram.recordValue(System.nanoTime() - sentAt);
            }
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("p50_us", histogram.getValueAtPercentile(50) / 1e3);
        result.put("p99_us", histogram.getValueAtPercentile(99) / 1e3);
        result.put("p999_us", histogram.getValueAtPercentile(99.9) / 1e3);
        result.put("lost", (double) lost);
        return result;
    }
}
