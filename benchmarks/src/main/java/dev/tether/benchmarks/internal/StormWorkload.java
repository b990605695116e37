package dev.tether.benchmarks.internal;

import dev.tether.core.Jitter;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.testkit.FaultProxy;
import dev.tether.mqtt.MqttClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A reconnect storm, scaled to a shared 2-core machine: many Tether clients through the fault
 * proxy, which resets every connection and refuses new ones for a while (a broker restart as the
 * clients see it). Counts connection attempts per 100 ms and the time until every client is back,
 * for no jitter, full jitter and equal jitter.
 */
final class StormWorkload {

    static final Duration OUTAGE = Duration.ofSeconds(1);
    static final Duration BUCKET = Duration.ofMillis(100);
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private StormWorkload() {
    }

    /** @return the storm's policy: 100 ms doubling to 2 s, unlimited, with this jitter */
    static ReconnectPolicy policy(Jitter jitter) {
        return ReconnectPolicy.builder().initialDelay(Duration.ofMillis(100)).multiplier(2.0)
                .maxDelay(Duration.ofSeconds(2)).jitter(jitter).unlimited().build();
    }

    static Map<String, Double> run(String host, int port, int clients) throws Exception {
        Map<String, Double> result = new LinkedHashMap<>();
        for (Jitter jitter : List.of(Jitter.NONE, Jitter.FULL, Jitter.EQUAL)) {
            String key = jitter.name().toLowerCase(Locale.ROOT);
            stormOnce(host, port, clients, jitter).forEach((k, v) -> result.put(key + "." + k, v));
        }
        return result;
    }

    private static Map<String, Double> stormOnce(String host, int port, int n, Jitter jitter) throws Exception {
        ReconnectPolicy policy = policy(jitter);
        ConcurrentLinkedQueue<Long> attempts = new ConcurrentLinkedQueue<>();
        // For the simulator's cross-check: when each client saw the loss, and how long its failed attempts took.
        ConcurrentLinkedQueue<Long> losses = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> failedAttempts = new ConcurrentLinkedQueue<>();
        long[] attemptStarted = new long[n];
        AtomicReference<CountDownLatch> back = new AtomicReference<>(new CountDownLatch(n));
        List<MqttClient> all = new ArrayList<>();
        List<Disposable> watches = new ArrayList<>();
        String run = UUID.randomUUID().toString().substring(0, 8);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (FaultProxy proxy = FaultProxy.start(host, port)) {
            for (int i = 0; i < n; i++) {
                MqttClient c = MqttClient.builder().endpoint("tcp://127.0.0.1:" + proxy.port())
                        .clientId("bench-storm-" + run + "-" + i).reconnect(policy).build();
                int index = i;
                watches.add(c.lifecycle().subscribe(e -> {
                    long now = System.nanoTime();
                    if (e instanceof LifecycleEvent.Connecting) {
                        attempts.add(now);
                        attemptStarted[index] = now;
                    } else if (e instanceof LifecycleEvent.Connected) {
                        attemptStarted[index] = 0;
                        back.get().countDown();
                    } else if (e instanceof LifecycleEvent.Disconnected) {
                        losses.add(now);
                    } else if (e instanceof LifecycleEvent.RetryScheduled && attemptStarted[index] != 0) {
                        failedAttempts.add(now - attemptStarted[index]);
                        attemptStarted[index] = 0;
                    }
                }));
                all.add(c.start());
            }
            if (!back.get().await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every storm client connected within " + TIMEOUT);
            }
            back.set(new CountDownLatch(n));
            attempts.clear();
            losses.clear();
            failedAttempts.clear();
            long start = System.nanoTime();
            proxy.refuse(true);
            proxy.cutAll();
            timer.schedule(() -> proxy.refuse(false), OUTAGE.toMillis(), TimeUnit.MILLISECONDS);
            if (!back.get().await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                throw new IllegalStateException("not every storm client came back within " + TIMEOUT);
            }
            long end = System.nanoTime();
            int buckets = (int) ((end - start) / BUCKET.toNanos()) + 1;
            int[] perBucket = new int[buckets];
            for (long t : attempts) {
                int b = (int) ((t - start) / BUCKET.toNanos());
                if (b >= 0 && b < buckets) {
                    perBucket[b]++;
                }
            }
            int peak = 0;
            long sum = 0;
            for (int count : perBucket) {
                peak = Math.max(peak, count);
                sum += count;
            }
            Map<String, Double> result = new LinkedHashMap<>();
            result.put("peak_per_100ms", (double) peak);
            result.put("mean_per_100ms", (double) sum / buckets);
            result.put("all_back_ms", (end - start) / 1e6);
            result.put("attempts", (double) sum);
            result.put("attempts_per_client", (double) sum / n);
            List<Double> detect = new ArrayList<>();
            losses.forEach(t -> detect.add((t - start) / 1e6));
            List<Double> took = new ArrayList<>();
            failedAttempts.forEach(d -> took.add(d / 1e6));
            result.put("detect_ms", Stats.median(detect));
            result.put("failed_attempt_ms", Stats.median(took));
            // Deciles of both, for the simulator's cross-check.
            double[] d = detect.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double[] a = took.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            for (int q = 0; q <= 10; q++) {
                result.put("detect_ms_q" + q * 10, d.length == 0 ? Double.NaN : Stats.percentile(d, q / 10.0));
                result.put("failed_attempt_ms_q" + q * 10, a.length == 0 ? Double.NaN : Stats.percentile(a, q / 10.0));
            }
            return result;
        } finally {
            timer.shutdownNow();
            watches.forEach(Disposable::dispose);
            Flux.fromIterable(all).flatMap(MqttClient::abort, 64).then().block(TIMEOUT);
        }
    }
}
