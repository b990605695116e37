package dev.tether.benchmarks.internal;

import dev.tether.core.Jitter;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.testkit.FaultProxy;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttWill;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Tether's resilience, measured through the fault proxy on loopback: time from a cut (RST) to the
 * new CONNACK and to the first delivered message, minus the configured backoff; QoS 1 loss and
 * duplicates across the cuts; abort to Will delivered.
 */
final class ResilienceWorkloads {

    static final Duration BACKOFF = Duration.ofMillis(100);
    static final Duration PUBLISH_INTERVAL = Duration.ofMillis(2);
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);
    static final Duration KEEP_ALIVE = Duration.ofSeconds(1);
    static final Duration PING_TIMEOUT = Duration.ofMillis(500);

    private ResilienceWorkloads() {
    }

    /**
     * @return connack_overhead_ms and first_message_overhead_ms (medians over the trials), lost, duplicates
     */
    static Map<String, Double> cuts(String host, int port, int trials) throws Exception {
        String topic = "bench/resilience/" + UUID.randomUUID();
        ReconnectPolicy policy = ReconnectPolicy.builder()
                .initialDelay(BACKOFF).multiplier(1.0).jitter(Jitter.NONE).unlimited().build();
        BlockingQueue<Long> connected = new ArrayBlockingQueue<>(trials + 4);
        BlockingQueue<Long> firstMessages = new ArrayBlockingQueue<>(1024);
        AtomicLong armed = new AtomicLong(Long.MAX_VALUE);
        BitSet seen = new BitSet();
        AtomicLong duplicates = new AtomicLong();
        Semaphore flow = new Semaphore(0);
        List<Double> connack = new ArrayList<>();
        List<Double> firstMessage = new ArrayList<>();
        List<Double> subacks = new ArrayList<>();
        try (FaultProxy proxy = FaultProxy.start(host, port)) {
            MqttClient subscriber = MqttClient.builder()
                    .endpoint("tcp://127.0.0.1:" + proxy.port())
                    .clientId("bench-sub-" + UUID.randomUUID().toString().substring(0, 8))
                    .cleanStart(false).sessionExpiry(Duration.ofMinutes(5))
                    .reconnect(policy)
                    .build().start();
            MqttClient publisher = MqttClient.builder().endpoint("tcp://" + host + ":" + port)
                    .clientId("bench-pub-" + UUID.randomUUID().toString().substring(0, 8)).build().start();
            BlockingQueue<Long> resubscribed = new ArrayBlockingQueue<>(trials + 4);
            MqttClient clean = MqttClient.builder()
                    .endpoint("tcp://127.0.0.1:" + proxy.port())
                    .clientId("bench-clean-" + UUID.randomUUID().toString().substring(0, 8))
                    .reconnect(policy)
                    .build().start();
            Disposable cleanEvents = clean.lifecycle()
                    .filter(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("resubscribed"))
                    .subscribe(e -> resubscribed.offer(System.nanoTime()));
            Disposable cleanMessages = clean.subscribe(topic, MqttQos.AT_LEAST_ONCE).subscribe(m -> { });
            clean.awaitConnected(STEP_TIMEOUT).block();
            Disposable events = subscriber.lifecycle()
                    .filter(e -> e instanceof LifecycleEvent.Connected)
                    .subscribe(e -> connected.offer(System.nanoTime()));
            Disposable messages = subscriber.subscribe(topic, MqttQos.AT_LEAST_ONCE).subscribe(m -> {
                long now = System.nanoTime();
                int seq = (int) ByteBuffer.wrap(m.payload()).getLong();
                synchronized (seen) {
                    if (seen.get(seq)) {
                        duplicates.incrementAndGet();
                    }
                    seen.set(seq);
                    seen.notifyAll();
                }
                flow.release();
                if (armed.getAndSet(Long.MAX_VALUE) != Long.MAX_VALUE) {
                    firstMessages.offer(now);
                }
            });
            subscriber.awaitConnected(STEP_TIMEOUT).block();
            publisher.awaitConnected(STEP_TIMEOUT).block();
            connected.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            AtomicLong sequence = new AtomicLong();
            Disposable publishing = Flux.interval(PUBLISH_INTERVAL)
                    .take(STEP_TIMEOUT.multipliedBy(trials + 2).dividedBy(PUBLISH_INTERVAL))
                    .onBackpressureDrop()
                    .concatMap(i -> publisher.publish(topic,
                            ByteBuffer.allocate(8).putLong(sequence.getAndIncrement()).array(), MqttQos.AT_LEAST_ONCE), 1)
                    .subscribe(r -> { }, e -> { });
            try {
                for (int i = 0; i < trials; i++) {
                    awaitMessageFlow(flow);
                    firstMessages.clear();
                    resubscribed.clear();
                    long cut = System.nanoTime();
                    proxy.cutAll();
                    Long up = connected.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (up == null) {
                        throw new IllegalStateException("no CONNACK within " + STEP_TIMEOUT + " after cut " + i);
                    }
                    armed.set(up);
                    Long first = firstMessages.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (first == null) {
                        throw new IllegalStateException("no message within " + STEP_TIMEOUT + " after cut " + i);
                    }
                    Long suback = resubscribed.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (suback == null) {
                        throw new IllegalStateException("no resubscription within " + STEP_TIMEOUT + " after cut " + i);
                    }
                    subacks.add((suback - cut) / 1e6 - BACKOFF.toMillis());
                    connack.add((up - cut) / 1e6 - BACKOFF.toMillis());
                    firstMessage.add((first - cut) / 1e6 - BACKOFF.toMillis());
                }
            } finally {
                publishing.dispose();
            }
            long published = sequence.get();
            long lost = awaitAll(seen, published);
            events.dispose();
            messages.dispose();
            cleanEvents.dispose();
            cleanMessages.dispose();
            clean.close().block(STEP_TIMEOUT);
            subscriber.close().block(STEP_TIMEOUT);
            publisher.close().block(STEP_TIMEOUT);
            Map<String, Double> result = new LinkedHashMap<>();
            result.put("connack_overhead_ms", Stats.median(connack));
            result.put("first_message_overhead_ms", Stats.median(firstMessage));
            result.put("suback_overhead_ms", Stats.median(subacks));
            result.put("published", (double) published);
            result.put("lost", (double) lost);
            result.put("duplicates", (double) duplicates.get());
            return result;
        }
    }

    private static void awaitMessageFlow(Semaphore flow) throws InterruptedException {
        flow.drainPermits();
        if (!flow.tryAcquire(10, STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("messages stopped flowing");
        }
    }

    /** @return how many of the published sequence numbers never arrived within the step timeout */
    private static long awaitAll(BitSet seen, long published) throws InterruptedException {
        long deadline = System.nanoTime() + STEP_TIMEOUT.toNanos();
        synchronized (seen) {
            long left;
            while (seen.cardinality() < published && (left = deadline - System.nanoTime()) > 0) {
                seen.wait(Math.max(1, left / 1_000_000));
            }
            return Math.max(0, published - seen.get(0, (int) published).cardinality());
        }
    }

    /**
     * A blackholed (half-open) connection: the keepalive finds it, then the proxy forwards again.
     *
     * @return detect_ms (blackhole to Disconnected, bounded by keepalive plus ping timeout) and
     *         connack_overhead_ms (Disconnected to CONNACK minus the backoff), medians over the trials
     */
    static Map<String, Double> blackhole(String host, int port, int trials) throws Exception {
        ReconnectPolicy policy = ReconnectPolicy.builder()
                .initialDelay(BACKOFF).multiplier(1.0).jitter(Jitter.NONE).unlimited().build();
        BlockingQueue<Long> down = new ArrayBlockingQueue<>(trials + 4);
        BlockingQueue<Long> up = new ArrayBlockingQueue<>(trials + 4);
        List<Double> detect = new ArrayList<>();
        List<Double> overhead = new ArrayList<>();
        try (FaultProxy proxy = FaultProxy.start(host, port)) {
            MqttClient client = MqttClient.builder()
                    .endpoint("tcp://127.0.0.1:" + proxy.port())
                    .clientId("bench-bh-" + UUID.randomUUID().toString().substring(0, 8))
                    .keepAlive(KEEP_ALIVE).pingTimeout(PING_TIMEOUT)
                    .reconnect(policy)
                    .build().start();
            Disposable events = client.lifecycle().subscribe(e -> {
                if (e instanceof LifecycleEvent.Disconnected) {
                    proxy.blackhole(false);
                    down.offer(System.nanoTime());
                } else if (e instanceof LifecycleEvent.Connected) {
                    up.offer(System.nanoTime());
                }
            });
            try {
                client.awaitConnected(STEP_TIMEOUT).block();
                up.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                for (int i = 0; i < trials; i++) {
                    down.clear();
                    up.clear();
                    long start = System.nanoTime();
                    proxy.blackhole(true);
                    Long lost = down.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    Long back = up.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    if (lost == null || back == null) {
                        proxy.blackhole(false);
                        throw new IllegalStateException("blackhole trial " + i + " did not end with a new CONNACK within "
                                + STEP_TIMEOUT);
                    }
                    detect.add((lost - start) / 1e6);
                    overhead.add((back - lost) / 1e6 - BACKOFF.toMillis());
                }
            } finally {
                events.dispose();
                client.abort().block(STEP_TIMEOUT);
            }
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("detect_ms", Stats.median(detect));
        result.put("connack_overhead_ms", Stats.median(overhead));
        return result;
    }

    /**
     * @return will_ms (median over the trials)
     */
    static Map<String, Double> abortToWill(String host, int port, int trials) throws Exception {
        String topic = "bench/will/" + UUID.randomUUID();
        BlockingQueue<Long> wills = new ArrayBlockingQueue<>(trials + 4);
        MqttClient observer = MqttClient.builder().endpoint("tcp://" + host + ":" + port)
                .clientId("bench-obs-" + UUID.randomUUID().toString().substring(0, 8)).build().start();
        Disposable received = observer.subscribe(topic, MqttQos.AT_LEAST_ONCE)
                .subscribe(m -> wills.offer(System.nanoTime()));
        observer.awaitConnected(STEP_TIMEOUT).block();
        // The subscription is confirmed once a probe comes back.
        for (int i = 0; i < 200 && wills.isEmpty(); i++) {
            observer.publish(topic, new byte[]{0}, MqttQos.AT_LEAST_ONCE).block(STEP_TIMEOUT);
            wills.poll(50, TimeUnit.MILLISECONDS);
        }
        List<Double> latencies = new ArrayList<>();
        try {
            for (int i = 0; i < trials; i++) {
                MqttClient client = MqttClient.builder().endpoint("tcp://" + host + ":" + port)
                        .clientId("bench-will-" + i + "-" + UUID.randomUUID().toString().substring(0, 8))
                        .will(MqttWill.of(MqttMessage.of(topic, "gone", MqttQos.AT_LEAST_ONCE)))
                        .build().start();
                client.awaitConnected(STEP_TIMEOUT).block();
                wills.clear();
                long abort = System.nanoTime();
                client.abort().subscribe();
                Long will = wills.poll(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (will == null) {
                    throw new IllegalStateException("no Will within " + STEP_TIMEOUT + " after abort " + i);
                }
                latencies.add((will - abort) / 1e6);
                client.close().block(STEP_TIMEOUT);
            }
        } finally {
            received.dispose();
            observer.close().block(STEP_TIMEOUT);
        }
        Map<String, Double> result = new LinkedHashMap<>();
        result.put("will_ms", Stats.median(latencies));
        return result;
    }
}
