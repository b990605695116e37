package dev.tether.benchmarks.internal;

import java.util.function.Consumer;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.jspecify.annotations.Nullable;

/**
 * Eclipse Paho mqttv3 (MQTT 3.1.1, async client). Its in-flight window is capped with its own
 * setting; the workload's semaphore keeps it there, and a publish refused for a full window
 * (a race between PUBACK callback and Paho's own count) is offered again.
 */
final class PahoV3Driver implements MqttDriver {

    private static final long TIMEOUT_MS = 10_000;
    private @Nullable MqttAsyncClient client;

    @Override
    public void connect(String host, int port, String clientId, int window) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient("tcp://" + host + ":" + port, clientId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setCleanSession(true);
        options.setAutomaticReconnect(false);
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setMaxInflight(window);
        c.connect(options).waitForCompletion(TIMEOUT_MS);
        client = c;
    }

    @Override
    public void subscribe(String topic, int qos, Consumer<byte[]> onMessage) throws Exception {
        client().subscribe(topic, qos, (t, m) -> onMessage.accept(m.getPayload())).waitForCompletion(TIMEOUT_MS);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done) {
        IMqttActionListener listener = new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                done.accept(null);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable failure) {
                done.accept(failure);
            }
        };
        long deadline = System.nanoTime() + TIMEOUT_MS * 1_000_000L;
        while (true) {
            try {
                client().publish(topic, payload, qos, false, null, listener);
                return;
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttException.REASON_CODE_MAX_INFLIGHT || System.nanoTime() > deadline) {
                    done.accept(e);
                    return;
                }
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public void close() {
        if (client != null) {
            try {
                client.disconnect().waitForCompletion(TIMEOUT_MS);
                client.close();
            } catch (MqttException e) {
                throw new IllegalStateException("disconnect failed: " + e, e);
            }
        }
    }

    private MqttAsyncClient client() {
        if (client == null) {
            throw new IllegalStateException("not connected");
        }
        return client;
    }
}
