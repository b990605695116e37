package dev.tether.benchmarks.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.jspecify.annotations.Nullable;

/**
 * Eclipse Paho mqttv5 (MQTT 5, async client). Its window is the broker's Receive Maximum; the
 * workload's semaphore keeps it at the common window, and a publish refused for a full window is
 * offered again.
 */
final class PahoV5Driver implements MqttDriver {

    private static final long TIMEOUT_MS = 10_000;
    private static final int MAX_INFLIGHT = 32202;
    private final Map<String, Consumer<byte[]>> handlers = new ConcurrentHashMap<>();
    private @Nullable MqttAsyncClient client;

    @Override
    public void connect(String host, int port, String clientId, int window) throws Exception {
        MqttAsyncClient c = new MqttAsyncClient("tcp://" + host + ":" + port, clientId, new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setAutomaticReconnect(false);
        options.setReceiveMaximum(window);
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                Consumer<byte[]> handler = handlers.get(topic);
                if (handler != null) {
                    handler.accept(message.getPayload());
                }
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        c.connect(options).waitForCompletion(TIMEOUT_MS);
        client = c;
    }

    @Override
    public void subscribe(String topic, int qos, Consumer<byte[]> onMessage) throws Exception {
        // Paho v5's subscribe-with-listener fails on an empty subscription identifier list, so
        // messages are dispatched from the client callback by topic instead.
        handlers.put(topic, onMessage);
        client().subscribe(new MqttSubscription(topic, qos)).waitForCompletion(TIMEOUT_MS);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done) {
        MqttActionListener listener = new MqttActionListener() {
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
                if (e.getReasonCode() != MAX_INFLIGHT || System.nanoTime() > deadline) {
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
