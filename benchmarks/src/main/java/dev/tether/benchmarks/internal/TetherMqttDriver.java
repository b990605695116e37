package dev.tether.benchmarks.internal;

import dev.tether.core.Jitter;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Tether's MQTT client (MQTT 5). */
class TetherMqttDriver implements MqttDriver {

    private @Nullable MqttClient client;
    private final Disposable.Composite subscriptions = Disposables.composite();
    private final AtomicLong disconnects = new AtomicLong();

    @Override
    public long disconnects() {
        return disconnects.get();
    }

    @Override
    public void connect(String host, int port, String clientId, int window) {
        connect(MqttClient.builder().endpoint("tcp://" + host + ":" + port).clientId(clientId).maxInFlight(window));
    }

    @Override
    public void connect(String host, int port, String clientId, int window, int receiveMaximum) {
        connect(MqttClient.builder().endpoint("tcp://" + host + ":" + port).clientId(clientId).maxInFlight(window)
                .receiveMaximum(receiveMaximum));
    }

    @Override
    public void connectReconnecting(String host, int port, String clientId, Duration backoff, LongConsumer onLost,
                                    LongConsumer onConnected) {
        ReconnectPolicy fixed = ReconnectPolicy.builder().initialDelay(backoff).multiplier(1.0).maxDelay(backoff)
                .jitter(Jitter.NONE).unlimited().build();
        MqttClient c = customize(MqttClient.builder().endpoint("tcp://" + host + ":" + port).clientId(clientId)
                .reconnect(fixed)).build();
        subscriptions.add(c.lifecycle().subscribe(e -> {
            if (e instanceof LifecycleEvent.Connected) {
                onConnected.accept(System.nanoTime());
            } else if (e instanceof LifecycleEvent.Disconnected) {
                onLost.accept(System.nanoTime());
                disconnects.incrementAndGet();
            }
        }, e -> { }));
        c.start();
        c.awaitConnected(Duration.ofSeconds(10)).block();
        client = c;
    }

    /** @return the builder with this driver's extra settings (none here; the session-store drivers add a store) */
    MqttClient.Builder customize(MqttClient.Builder builder) {
        return builder;
    }

    private void connect(MqttClient.Builder builder) {
        MqttClient c = customize(builder).build();
        subscriptions.add(c.lifecycle().subscribe(e -> {
            if (e instanceof LifecycleEvent.Disconnected d) {
                disconnects.incrementAndGet();
                System.err.println("tether: disconnected: " + d);
            } else if (e instanceof LifecycleEvent.Notice n && n.kind().startsWith("receive-maximum")) {
                System.err.println("tether: " + n.details());
            }
        }, e -> { }));
        c.start();
        c.awaitConnected(Duration.ofSeconds(10)).block();
        client = c;
    }

    @Override
    public void subscribeOnWorker(String topic, int qos, int prefetch, Consumer<byte[]> work) {
        Scheduler worker = Schedulers.newSingle("bench-worker", true);
        subscriptions.add(worker);
        subscriptions.add(client().subscribe(topic, qos(qos)).publishOn(worker, prefetch)
                .subscribe(m -> work.accept(m.payload())));
    }

    @Override
    public void subscribe(String topic, int qos, Consumer<byte[]> onMessage) {
        subscriptions.add(client().subscribe(topic, qos(qos)).subscribe(m -> onMessage.accept(m.payload())));
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done) {
        // The workload never changes the array after the call: handed over without a copy, as HiveMQ's driver
        // hands it to payload(byte[]), which wraps it.
        client().publish(MqttMessage.wrap(topic, payload, qos(qos))).subscribe(r -> { }, done::accept,
                () -> done.accept(null));
    }

    @Override
    public void close() {
        subscriptions.dispose();
        if (client != null) {
            client.close().block(Duration.ofSeconds(10));
        }
    }

    private MqttClient client() {
        if (client == null) {
            throw new IllegalStateException("not connected");
        }
        return client;
    }

    private static MqttQos qos(int qos) {
        return qos == 0 ? MqttQos.AT_MOST_ONCE : MqttQos.AT_LEAST_ONCE;
    }
}
