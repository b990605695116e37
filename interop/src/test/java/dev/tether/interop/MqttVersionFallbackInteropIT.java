package dev.tether.interop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.LifecycleEvent;
import dev.tether.core.ReconnectPolicy;
import dev.tether.core.testing.Recorder;
import dev.tether.mqtt.MqttClient;
import dev.tether.mqtt.MqttMessage;
import dev.tether.mqtt.MqttQos;
import dev.tether.mqtt.MqttSession;
import dev.tether.mqtt.MqttVersion;
import dev.tether.testkit.FaultProxy;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The default client (MQTT 5 with fallback) against brokers that speak MQTT 3.1.1 only: Aedes, which answers an
 * MQTT 5 CONNECT with a CONNACK, and RabbitMQ 3.10 with its MQTT and Web MQTT plugins, which closes the
 * connection. Over TCP and WebSocket the client falls back once, says so, and then publishes and subscribes.
 */
@ExtendWith(PeerLogs.class)
class MqttVersionFallbackInteropIT {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String USER = "device";
    private static final String PASSWORD = "right-password";
    private static final ReconnectPolicy FAST = ReconnectPolicy.builder().initialDelay(Duration.ofMillis(50))
            .maxDelay(Duration.ofMillis(500)).build();

    private static long fallbacks(Recorder<LifecycleEvent> rec) {
        return rec.items().stream().filter(e -> e instanceof LifecycleEvent.Notice n
                && n.kind().equals(MqttClient.Builder.VERSION_FALLBACK_NOTICE)).count();
    }

    /** Connects with the defaults, checks the fallback, publishes to itself and receives it. */
    private static void fallsBackAndWorks(String uri, String clientId, String user, String password, String answer) {
        MqttClient client = MqttClient.builder().endpoint(uri).clientId(clientId).reconnect(FAST)
                .credentials(CredentialsProvider.fixed(Credentials.of(user, password))).build();
        try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(client.lifecycle())) {
            String topic = "fallback/" + clientId;
            java.util.concurrent.CompletableFuture<MqttMessage> received = client.subscribe(topic, MqttQos.AT_LEAST_ONCE)
                    .next().toFuture();
            client.start();
            LifecycleEvent.Connected connected = rec.next(LifecycleEvent.Connected.class, WAIT);
            assertThat(((MqttSession) connected.details()).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            assertThat(fallbacks(rec)).isEqualTo(1);
            assertThat(rec.items()).filteredOn(e -> e instanceof LifecycleEvent.Notice n
                    && n.kind().equals(MqttClient.Builder.VERSION_FALLBACK_NOTICE)).first()
                    .satisfies(n -> assertThat(((LifecycleEvent.Notice) n).details().toString()).contains(answer));
            assertThat(rec.items()).noneMatch(e -> e instanceof LifecycleEvent.RetryScheduled);
            rec.next(e -> e instanceof LifecycleEvent.Notice n && n.kind().equals("subscribed"), WAIT, "SUBACK");
            client.publish(MqttMessage.of(topic, "over 3.1.1", MqttQos.AT_LEAST_ONCE)).block(WAIT);
            assertThat(received).succeedsWithin(WAIT).extracting(MqttMessage::payloadAsString).isEqualTo("over 3.1.1");
        } finally {
            client.close().block(WAIT);
        }
    }

    @Test
    void aedesOverTcpAndWebSocket() {
        try (NodePeer aedes = NodePeer.start("aedes-broker.js", USER, PASSWORD)) {
            PeerLogs.register("aedes", aedes::output);
            String ready = aedes.await(WAIT, "\"event\":\"ready\"");
            int tcp = NodePeer.intField(ready, "tcp");
            int ws = NodePeer.intField(ready, "ws");
            fallsBackAndWorks("tcp://127.0.0.1:" + tcp, "aedes-fb-tcp", USER, PASSWORD, "return code 1 unacceptable protocol version");
            fallsBackAndWorks("ws://127.0.0.1:" + ws + "/mqtt", "aedes-fb-ws", USER, PASSWORD,
                    "return code 1 unacceptable protocol version");
        }
    }

    @Test
    void aedesReconnectsWithTheRememberedVersion() {
        try (NodePeer aedes = NodePeer.start("aedes-broker.js", USER, PASSWORD)) {
            PeerLogs.register("aedes", aedes::output);
            int tcp = NodePeer.intField(aedes.await(WAIT, "\"event\":\"ready\""), "tcp");
            try (FaultProxy proxy = FaultProxy.start("127.0.0.1", tcp)) {
                MqttClient client = MqttClient.builder().endpoint("tcp://127.0.0.1:" + proxy.port()).clientId("aedes-fb-again")
                        .reconnect(FAST).credentials(CredentialsProvider.fixed(Credentials.of(USER, PASSWORD))).build();
                try (Recorder<LifecycleEvent> rec = Recorder.lifecycle(client.lifecycle())) {
                    client.start();
                    rec.next(LifecycleEvent.Connected.class, WAIT);
                    proxy.cutAll();
                    rec.next(e -> e instanceof LifecycleEvent.Connected c && c.generation() == 2, WAIT, "reconnected");
                    assertThat(fallbacks(rec)).isEqualTo(1);
                    assertThat(client.awaitConnected(WAIT).block(WAIT).version()).isEqualTo(MqttVersion.MQTT_3_1_1);
                } finally {
                    client.close().block(WAIT);
                }
            }
        }
    }

    @Test
    void rabbitMqOverTcpAndWebSocket() {
        try (RabbitMq rabbit = RabbitMq.start()) {
            PeerLogs.register("rabbitmq", rabbit::log);
            String closed = "closed the connection after the MQTT 5 CONNECT without a CONNACK";
            fallsBackAndWorks("tcp://127.0.0.1:" + rabbit.mqttPort(), "rabbit-fb-tcp", RabbitMq.USER, RabbitMq.PASSWORD, closed);
            fallsBackAndWorks("ws://127.0.0.1:" + rabbit.webMqttPort() + "/ws", "rabbit-fb-ws", RabbitMq.USER,
                    RabbitMq.PASSWORD, closed);
        }
    }
}
