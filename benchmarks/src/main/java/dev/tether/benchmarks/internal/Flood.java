package dev.tether.benchmarks.internal;

import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;

/**
 * The publisher of the slow-consumer run, in the harness JVM (so it weighs nothing in the subscriber's
 * heap): {@link SlowConsumerWorkload#MESSAGES} QoS 1 messages as fast as the broker acknowledges them,
 * with the usual in-flight window, on a thread of its own.
 */
final class Flood implements AutoCloseable {

    private final Thread thread;
    private volatile @Nullable MqttClient client;
    private final AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
    private volatile long tookNanos = -1;

    private Flood(String host, int port, String topic) {
        thread = new Thread(() -> {
            MqttClient client = MqttClient.builder().endpoint("tcp://" + host + ":" + port)
                    .clientId("bench-flood-" + UUID.randomUUID().toString().substring(0, 8))
                    .maxInFlight(Settings.WINDOW).build();
            this.client = client;
            client.start();
            try {
                client.awaitConnected(Duration.ofSeconds(10)).block();
                long t0 = System.nanoTime();
                client.publishAll(Flux.range(0, SlowConsumerWorkload.MESSAGES)
                                .map(i -> MqttMessage.of(topic, SlowConsumerWorkload.payload(i), MqttQos.AT_LEAST_ONCE)))
                        .blockLast(SlowConsumerWorkload.TIMEOUT);
                tookNanos = System.nanoTime() - t0;
            } catch (RuntimeException e) {
                failure.set(e);
            } finally {
                client.close().onErrorResume(e -> reactor.core.publisher.Mono.empty()).block(Duration.ofSeconds(10));
            }
        }, "bench-flood");
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts publishing at once. */
    static Flood start(String host, int port, String topic) {
        return new Flood(host, port, topic);
    }

    /** @return how long the broker took to acknowledge every publish, in seconds, or NaN if it did not */
    double seconds() {
        return tookNanos < 0 ? Double.NaN : tookNanos / 1e9;
    }

    /** @return what went wrong, or null */
    @Nullable Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() throws InterruptedException {
        thread.join(Duration.ofSeconds(15).toMillis());
    }

    /** Aborts the publisher if it is still running (its publishes then fail); returns at once. */
    void stop() {
        MqttClient c = client;
        if (thread.isAlive() && c != null) {
            c.abort().subscribe(null, e -> { });
        }
    }
}
