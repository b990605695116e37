package dev.tether.benchmarks.internal;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import io.reactivex.Scheduler;
import io.reactivex.disposables.CompositeDisposable;
import io.reactivex.schedulers.Schedulers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;

/**
 * HiveMQ's MQTT client (MQTT 5, async API; its RxJava 2 API for the slow consumer), in a JVM of its own
 * with its Netty 4.1.
 */
final class HiveMqDriver implements MqttDriver {

    private @Nullable Mqtt5AsyncClient client;
    private final CompositeDisposable subscriptions = new CompositeDisposable();
    private final List<ExecutorService> workers = new CopyOnWriteArrayList<>();
    private final AtomicLong disconnects = new AtomicLong();

    @Override
    public long disconnects() {
        return disconnects.get();
    }

    @Override
    public void connect(String host, int port, String clientId, int window) throws Exception {
        Mqtt5AsyncClient c = MqttClient.builder().useMqttVersion5()
                .identifier(clientId).serverHost(host).serverPort(port)
                .buildAsync();
        c.connectWith().cleanStart(true)
                .restrictions().sendMaximum(window).applyRestrictions()
                .send().get(10, TimeUnit.SECONDS);
        client = c;
    }

    @Override
    public void connect(String host, int port, String clientId, int window, int receiveMaximum) throws Exception {
        Mqtt5AsyncClient c = MqttClient.builder().useMqttVersion5()
                .identifier(clientId).serverHost(host).serverPort(port)
                .addDisconnectedListener(context -> {
                    disconnects.incrementAndGet();
                    System.err.println("hivemq: disconnected (" + context.getSource() + "): " + context.getCause());
                })
                .buildAsync();
        c.connectWith().cleanStart(true)
                .restrictions().sendMaximum(window).receiveMaximum(receiveMaximum).applyRestrictions()
                .send().get(10, TimeUnit.SECONDS);
        client = c;
    }

    /**
     * HiveMQ's automatic reconnect is its disconnected listener asking the context's reconnector to
     * reconnect after a delay; its {@code automaticReconnect()} preset adds ±25 % jitter to that delay,
     * so the same mechanism is used here with a fixed delay (the library's documented way to set one).
     */
    @Override
    public void connectReconnecting(String host, int port, String clientId, Duration backoff, LongConsumer onLost,
                                    LongConsumer onConnected) throws Exception {
        Mqtt5AsyncClient c = MqttClient.builder().useMqttVersion5()
                .identifier(clientId).serverHost(host).serverPort(port)
                .addConnectedListener(context -> onConnected.accept(System.nanoTime()))
                .addDisconnectedListener(context -> {
                    onLost.accept(System.nanoTime());
                    disconnects.incrementAndGet();
                    if (context.getSource() != MqttDisconnectSource.USER) {
                        context.getReconnector().reconnect(true).delay(backoff.toNanos(), TimeUnit.NANOSECONDS);
                    }
                })
                .buildAsync();
        c.connectWith().cleanStart(true).send().get(10, TimeUnit.SECONDS);
        client = c;
    }

    @Override
    public void subscribeOnWorker(String topic, int qos, int prefetch, Consumer<byte[]> work) {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bench-worker");
            t.setDaemon(true);
            return t;
        });
        workers.add(executor);
        Scheduler worker = Schedulers.from(executor);
        subscriptions.add(client().toRx().subscribePublishesWith().topicFilter(topic).qos(qos(qos)).applySubscribe()
                .observeOn(worker, false, prefetch)
                .subscribe(p -> work.accept(p.getPayloadAsBytes()),
                        e -> System.err.println("hivemq: the subscription ended: " + e)));
    }

    @Override
    public void subscribe(String topic, int qos, Consumer<byte[]> onMessage) throws Exception {
        client().subscribeWith().topicFilter(topic).qos(qos(qos))
                .callback(p -> onMessage.accept(p.getPayloadAsBytes()))
                .send().get(10, TimeUnit.SECONDS);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done) {
        client().publishWith().topic(topic).qos(qos(qos)).payload(payload).send()
                .whenComplete((r, e) -> done.accept(e != null ? e : r.getError().orElse(null)));
    }

    @Override
    public void close() {
        subscriptions.dispose();
        workers.forEach(ExecutorService::shutdownNow);
        if (client != null) {
            try {
                client.disconnect().get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("disconnect failed: " + e, e);
            }
        }
    }

    private Mqtt5AsyncClient client() {
        if (client == null) {
            throw new IllegalStateException("not connected");
        }
        return client;
    }

    private static MqttQos qos(int qos) {
        return qos == 0 ? MqttQos.AT_MOST_ONCE : MqttQos.AT_LEAST_ONCE;
    }
}
