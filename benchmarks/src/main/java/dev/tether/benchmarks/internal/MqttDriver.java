package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * One MQTT client library behind the same small surface, so every contender runs the very same
 * workload code. Implementations must not leak their library's types: each runs in its own JVM
 * with only its own library on the class path.
 */
interface MqttDriver extends AutoCloseable {

    /**
     * Connects (clean start) and returns once the broker accepted.
     *
     * @param host     the broker host
     * @param port     the broker port
     * @param clientId the client identifier
     * @param window   the in-flight window the library is configured with
     * @throws Exception if the connection fails
     */
    void connect(String host, int port, String clientId, int window) throws Exception;

    /**
     * Connects (clean start) with a Receive Maximum of its own (MQTT 5: how many QoS 1 and 2 messages the
     * broker may send unacknowledged), for the slow-consumer run.
     *
     * @param host           the broker host
     * @param port           the broker port
     * @param clientId       the client identifier
     * @param window         the in-flight window for publishes
     * @param receiveMaximum the Receive Maximum the client announces in CONNECT
     * @throws Exception if the connection fails
     * @throws UnsupportedOperationException if the driver does not take part in the slow-consumer run
     */
    default void connect(String host, int port, String clientId, int window, int receiveMaximum) throws Exception {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not set a Receive Maximum");
    }

    /**
     * Subscribes a slow consumer the way the library's reactive API is meant to be used: messages cross
     * to one worker thread of the library's reactive stack with the given prefetch ({@code publishOn},
     * {@code observeOn}), and {@code work} runs there, never on the network thread. Acknowledgements are
     * the library's default for that API.
     *
     * @param topic    the topic (no wildcards)
     * @param qos      0 or 1
     * @param prefetch how many messages the worker requests ahead
     * @param work     called with each payload, on the worker
     * @throws Exception if the subscription cannot be sent
     * @throws UnsupportedOperationException if the driver does not take part in the slow-consumer run
     */
    default void subscribeOnWorker(String topic, int qos, int prefetch, Consumer<byte[]> work) throws Exception {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no reactive subscribe");
    }

    /**
     * Connects (clean start) with the library's own automatic reconnect set to one fixed delay (no
     * growth, no jitter), and returns once the broker accepted. For the side-by-side reconnect runs.
     *
     * @param host        the broker (or proxy) host
     * @param port        the broker (or proxy) port
     * @param clientId    the client identifier
     * @param backoff     the fixed delay before every reconnect attempt
     * @param onLost      called with {@link System#nanoTime()} when the library reports the connection lost
     * @param onConnected called with {@link System#nanoTime()} when the library reports a CONNACK (the first one too)
     * @throws Exception if the first connection fails
     * @throws UnsupportedOperationException if the driver does not take part in the reconnect runs
     */
    default void connectReconnecting(String host, int port, String clientId, Duration backoff, LongConsumer onLost,
                                     LongConsumer onConnected) throws Exception {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no automatic reconnect here");
    }

    /** @return how many times the connection was lost since {@code connect}, or -1 if the driver does not count */
    default long disconnects() {
        return -1;
    }

    /**
     * Subscribes; may return before the broker acknowledged (callers probe until a message arrives).
     *
     * @param topic     the topic (no wildcards)
     * @param qos       0 or 1
     * @param onMessage called with each payload, on the library's thread
     * @throws Exception if the subscription cannot be sent
     */
    void subscribe(String topic, int qos, Consumer<byte[]> onMessage) throws Exception;

    /**
     * Publishes without blocking for the result.
     *
     * @param topic   the topic
     * @param payload the payload
     * @param qos     0 or 1
     * @param done    called once: QoS 0 when handed to the network, QoS 1 on PUBACK; with the failure or null
     */
    void publish(String topic, byte[] payload, int qos, Consumer<Throwable> done);

    /** Disconnects and releases the library's threads; failures are reported as unchecked exceptions. */
    @Override
    void close();

    /**
     * @param className the simple name of a driver class in this package
     * @return a new driver, loaded by name so that no other library is touched
     * @throws ReflectiveOperationException if the class is missing (its library is not on the class path)
     */
    static MqttDriver load(String className) throws ReflectiveOperationException {
        return (MqttDriver) Class.forName(MqttDriver.class.getPackageName() + "." + className)
                .getDeclaredConstructor().newInstance();
    }
}
